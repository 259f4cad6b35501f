import { defineConfig } from 'tsup'

export default defineConfig({
  // The root entry imports no framework, queue or JWT library; each adapter
  // is its own subpath entry that imports core by its public name, kept
  // external, so every entry shares one TenantScopeError class (CJS too).
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
  // The entries import core by name; while building, that name is the source.
  // stripInternal: what is marked @internal (constructors, _begin, _commit) stays
  // out of the published types, and so do the internal types they name.
  dts: { compilerOptions: { paths: { '@tenantscope/core': ['./src/index.ts'] }, stripInternal: true } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  external: ['@tenantscope/core'],
})
