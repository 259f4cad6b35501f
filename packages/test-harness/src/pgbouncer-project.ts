import { findPgBouncer } from './pgbouncer.js'

/**
 * The include list of a PgBouncer test project, as citusProjectInclude does
 * it for Citus. Where pgbouncer is not installed, a user's run leaves the
 * project out and prints why, once; in CI (`CI=true`) the project stays in,
 * and its tests fail when they start PgBouncer, since a skipped suite proves
 * nothing.
 */
export function pgbouncerProjectInclude(include: string[], find: () => string | undefined = findPgBouncer): string[] {
  if (process.env.CI === 'true' || process.env.CI === '1') return include
  if (find() !== undefined) return include
  process.stderr.write(
    '[test-harness:pgbouncer] the PgBouncer tests do not run on this machine: pgbouncer is not on PATH or in /usr/sbin (apt-get install pgbouncer)\n',
  )
  return []
}
