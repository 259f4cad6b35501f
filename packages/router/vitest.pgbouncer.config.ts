import { defineProject } from 'vitest/config'

// Tests through a real PgBouncer in transaction mode. Without pgbouncer they
// say so and skip, except in CI (CI=true), where its absence fails the run.
export default defineProject({
  test: { name: 'router:pgbouncer', include: ['test/pgbouncer/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
})
