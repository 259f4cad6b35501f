import { defineConfig } from 'vitest/config'

// One run, many projects: each package names its own (`core` for unit tests,
// `core:pg` for tests against a real PostgreSQL). The harness resolves one
// PostgreSQL for the whole run.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.*.config.ts', 'examples/*/vitest.*.config.ts'],
    globalSetup: ['./packages/test-harness/src/global-setup.ts'],
  },
})
