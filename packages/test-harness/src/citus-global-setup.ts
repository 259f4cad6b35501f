import { randomBytes } from 'node:crypto'
import type { TestProject } from 'vitest/node'
import { startCitusCluster } from './citus-cluster.js'
import './citus-info.js'

/**
 * Vitest global setup of the Citus test project: one 3-node cluster for the
 * whole run (starting one costs seconds), handed to the test files, which
 * each create their own database on it (see createCitusTestDatabase).
 * A cluster that cannot start fails the run; the project's config decides
 * beforehand whether the project runs at all (see citusProjectInclude).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string) => process.stderr.write(`[test-harness:citus] ${line}\n`)
  const cluster = await startCitusCluster(log)
  project.provide('tenantscopeCitus', {
    coordinatorPort: cluster.coordinator.port,
    workerPorts: [cluster.workers[0].port, cluster.workers[1].port],
    citusVersion: cluster.citusVersion,
    prefix: `tenantscope_citus_${randomBytes(3).toString('hex')}_`,
  })
  return () => cluster.stop()
}
