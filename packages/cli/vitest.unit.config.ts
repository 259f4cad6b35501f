import { defineProject } from 'vitest/config'

export default defineProject({
  test: { name: 'cli', include: ['test/unit/**/*.test.ts'] },
})
