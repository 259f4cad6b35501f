import { defineProject } from 'vitest/config'

export default defineProject({
  // The process tests start the CLI from source through tsx: several per test.
  test: { name: 'cli', include: ['test/unit/**/*.test.ts'], testTimeout: 30_000 },
})
