import { defineProject } from 'vitest/config'

// The benchmark's modes against a real PostgreSQL: what they send, not how fast.
export default defineProject({
  test: { name: 'bench:pg', include: ['test/pg/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 60_000 },
})
