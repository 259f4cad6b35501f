import { execFileSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defaultClientConditions, defaultServerConditions, type Plugin } from 'vite'
import { defineConfig } from 'vitest/config'

// Tests run from source: every workspace package's `exports` entry names its
// source file under the `@tenantscope/source` condition, first, so a resolver
// that asks for that condition finds `@tenantscope/core` (and every subpath)
// in `src/*.ts`, and no test needs a build. Published packages ship only
// dist; nobody else asks for this condition.
const SOURCE_CONDITION = '@tenantscope/source'
// Paths from this file, so the run does not depend on the working directory.
const ROOT = dirname(fileURLToPath(import.meta.url))

// Vitest resolves in several Vite environments: `ssr` for the tests (whose
// conditions it also passes to Node for externalized dependencies) and its
// own for the global setup. Top-level `resolve.conditions` reaches only the
// client environment, so the condition is added to each environment here,
// beside Vite's defaults (a list replaces them, so they are kept).
const fromSource: Plugin = {
  name: 'tenantscope:source',
  configEnvironment(name, environment) {
    const defaults = name === 'client' ? defaultClientConditions : defaultServerConditions
    return { resolve: { conditions: environment.resolve?.conditions ? [SOURCE_CONDITION] : [SOURCE_CONDITION, ...defaults] } }
  },
}

// The sql package's source imports a module generated from sql/*.sql: bring
// it up to date before anything imports it (it writes only on a change).
execFileSync(process.execPath, [join(ROOT, 'packages/sql/scripts/embed-sql.mjs')], { stdio: 'inherit' })

// One run, many projects: each package names its own (`core` for unit tests,
// `core:pg` for tests against a real PostgreSQL) in `vitest.<kind>.config.ts`.
// Config files do not inherit this one, so each is listed here, extended with
// the source condition and rooted in its own folder.
const projects = ['packages', 'examples'].flatMap((parent) =>
  readdirSync(join(ROOT, parent), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => {
      const root = join(ROOT, parent, entry.name)
      return readdirSync(root)
        .filter((file) => /^vitest\.[\w-]+\.config\.ts$/.test(file))
        .map((file) => ({ extends: join(root, file), root, plugins: [fromSource] }))
    }),
)

// The harness resolves one PostgreSQL for the whole run.
export default defineConfig({
  plugins: [fromSource],
  test: {
    projects,
    globalSetup: [join(ROOT, 'packages/test-harness/src/global-setup.ts')],
  },
})
