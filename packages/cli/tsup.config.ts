import { defineConfig } from 'tsup'

// Two builds write into dist at the same time, so neither cleans it: the
// build script empties dist first.

export default defineConfig([
  // The library entry (runDoctor and friends), for users' own code.
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: false,
    target: 'node20',
  },
  // The executable: ESM only, and the only file with a shebang.
  {
    entry: { bin: 'src/bin.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
])
