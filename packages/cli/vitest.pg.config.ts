import { defineProject } from 'vitest/config'

export default defineProject({
  test: { name: 'cli:pg', include: ['test/pg/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
})
