// The workspace packages name their source under the `@tenantscope/source`
// export condition, so tests, typecheck and examples run without a build
// (see vitest.config.ts). The published package ships only dist: packing
// (`pnpm pack`, `pnpm publish`) removes that condition from the manifest, so
// no published file points at src. `pnpm lint:packages` checks the result.
const SOURCE_CONDITION = '@tenantscope/source'

function beforePacking(pkg) {
  if (pkg.exports && typeof pkg.exports === 'object') {
    for (const entry of Object.values(pkg.exports)) {
      if (entry && typeof entry === 'object') delete entry[SOURCE_CONDITION]
    }
  }
  return pkg
}

module.exports = { hooks: { beforePacking } }
