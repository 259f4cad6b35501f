import { findPgBouncer } from './pgbouncer.js'

/**
 * Whether the PgBouncer tests run here. Absent pgbouncer on a developer's
 * machine: say so and skip. In CI (CI=true) its absence is a failure.
 */
export function pgbouncerAvailable(): boolean {
  if (findPgBouncer()) return true
  if (process.env.CI) {
    throw new Error('CI=true but pgbouncer is not installed: the PgBouncer transaction-mode tests cannot be skipped in CI')
  }
  console.warn(
    '[test-harness] pgbouncer not found on PATH or in /usr/sbin: skipping the PgBouncer tests (apt-get install pgbouncer to run them)',
  )
  return false
}
