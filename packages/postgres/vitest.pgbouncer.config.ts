import { defineProject } from 'vitest/config'
import { pgbouncerProjectInclude } from '../test-harness/src/pgbouncer-project.js'

// The contract through a real PgBouncer in transaction mode. Where pgbouncer is
// not installed, a user's run leaves this project out and says why; CI
// (CI=true) keeps it in, so a missing pgbouncer fails the run.
export default defineProject({
  test: {
    name: 'postgres:pgbouncer',
    include: pgbouncerProjectInclude(['test/pgbouncer/**/*.test.ts']),
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
