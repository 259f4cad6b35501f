import { defineProject } from 'vitest/config'

export default defineProject({
  test: { name: 'nestjs:pg', include: ['test/pg/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 60_000 },
})
