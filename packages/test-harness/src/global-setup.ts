import type { TestProject } from 'vitest/node'
import { resolveServer } from './server.js'
import { createTemplate, dropDatabases } from './template.js'
import './harness-info.js'

/**
 * Vitest global setup: resolves one PostgreSQL for the whole run, builds the
 * template database, hands both to the tests, and cleans up afterwards.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string) => process.stderr.write(`[test-harness] ${line}\n`)
  const server = await resolveServer(log)
  const prefix = `tenantscope_${process.pid}_${Date.now().toString(36)}_`
  const template = `${prefix}template`
  try {
    await createTemplate(server.adminUrl, template)
  } catch (error) {
    await server.stop()
    throw error
  }
  log(`PostgreSQL from ${server.source} is ready; template database ${template}`)
  project.provide('tenantscope', { source: server.source, adminUrl: server.adminUrl, template, prefix })
  return async () => {
    await dropDatabases(server.adminUrl, prefix).catch((error) => log(`cleanup failed: ${String(error)}`))
    await server.stop()
  }
}
