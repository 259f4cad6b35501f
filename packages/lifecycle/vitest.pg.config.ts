import { defineProject } from 'vitest/config'

export default defineProject({
  test: { name: 'lifecycle:pg', include: ['test/pg/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
})
