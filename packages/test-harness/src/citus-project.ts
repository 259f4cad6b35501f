import { citusUnavailableReason } from './citus-cluster.js'

/**
 * The include list of a Citus test project. Where no Citus cluster can start
 * (no PostgreSQL 15 binaries with Citus installed), a user's run leaves the
 * project out and prints why, once; in CI (`CI=true`) the project stays in and
 * its global setup fails the run, since a skipped suite proves nothing.
 */
export function citusProjectInclude(include: string[]): string[] {
  if (process.env.CI === 'true' || process.env.CI === '1') return include
  const reason = citusUnavailableReason()
  if (reason === undefined) return include
  process.stderr.write(`[test-harness:citus] the Citus tests do not run on this machine: ${reason}\n`)
  return []
}
