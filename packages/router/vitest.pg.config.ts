import { defineProject } from 'vitest/config'

export default defineProject({
  test: { name: 'router:pg', include: ['test/pg/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 120_000 },
})
