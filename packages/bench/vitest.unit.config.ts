import { defineProject } from 'vitest/config'

// The benchmark's pure parts (spreads over runs, target verdicts, /proc
// parsing): no database, fast.
export default defineProject({
  test: { name: 'bench:unit', include: ['test/unit/**/*.test.ts'] },
})
