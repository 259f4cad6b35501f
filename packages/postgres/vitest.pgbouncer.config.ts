import { defineProject } from 'vitest/config'

// The contract through a real PgBouncer in transaction mode. Without
// pgbouncer it says so and skips, except in CI (CI=true), where its absence
// fails the run.
export default defineProject({
  test: { name: 'postgres:pgbouncer', include: ['test/pgbouncer/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
})
