import { defineProject } from 'vitest/config'
import { citusProjectInclude } from '../test-harness/src/citus-project.js'

// One 3-node Citus cluster for the whole project, started by its own global
// setup. Where Citus is not installed, a user's run leaves this project out
// and says why; CI (CI=true) keeps it in, so a cluster that cannot start fails.
export default defineProject({
  test: {
    name: 'citus',
    include: citusProjectInclude(['test/**/*.test.ts']),
    globalSetup: ['@tenantscope/test-harness/citus-global-setup'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})
