import { defineConfig } from 'tsup'

export default defineConfig({
  // The root entry imports no framework, queue or JWT library; each adapter
  // is its own subpath entry that imports core through src/index.ts.
  entry: {
    index: 'src/index.ts',
    http: 'src/http/index.ts',
    express: 'src/http/express.ts',
    fastify: 'src/http/fastify.ts',
    hono: 'src/http/hono.ts',
    jwt: 'src/http/jwt.ts',
    jobs: 'src/jobs/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
})
