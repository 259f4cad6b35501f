import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { withClient, withDatabase } from '@tenantscope/test-harness'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'

const run = promisify(execFile)
const here = new URL('..', import.meta.url)
// The packages as the tests run them, from source: no build comes first. (The README's
// script itself is plain JavaScript; tsx only compiles the packages it imports.)
const require = createRequire(import.meta.url)
const NODE_ARGS = ['--import', pathToFileURL(require.resolve('tsx')).href, '--conditions', '@tenantscope/source']

/** The first ```ts block after `heading` (or in the file): the code a newcomer pastes. */
function firstTsBlock(readme: string, heading?: string): string {
  const section = heading === undefined ? 0 : readme.indexOf(`\n${heading}\n`)
  if (section < 0) throw new Error(`no "${heading}" section`)
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(section))
  if (!block?.[1]) throw new Error('no ```ts block')
  return block[1]
}

// Each README whose first screen is a runnable script: the file, and where its script starts.
const readmes = [
  { readme: '../../README.md', heading: '## Quick start', name: 'README.md' },
  { readme: '../../packages/drizzle/README.md', heading: undefined, name: 'packages/drizzle/README.md' },
]

// A database created from template0, not the harness's template: the script must bring
// everything it needs (the shipped SQL, the table, the app role) itself. The role `app_user`
// it creates is cluster-wide and is left in place, as a user's would be.
const info = inject('tenantscope')

describe.each(readmes)('$name', ({ readme, heading }) => {
  const database = `${info.prefix}quickstart_${randomBytes(4).toString('hex')}`
  const adminUrl = withDatabase(info.adminUrl, database)
  const appUrl = withDatabase(info.adminUrl, database, { name: 'app_user', password: 'secret' })
  let script: URL | undefined

  beforeAll(async () => {
    await withClient(info.adminUrl, (admin) => admin.query(`CREATE DATABASE ${database} TEMPLATE template0`))
    // Written inside this package, so that the packages resolve as in a user's project.
    const dir = new URL('.readme/', here)
    await mkdir(dir, { recursive: true })
    script = new URL(`${database}.mjs`, dir) // as the READMEs say: plain JavaScript, run by node
    await writeFile(script, firstTsBlock(await readFile(new URL(readme, here), 'utf8'), heading))
  })

  afterAll(async () => {
    if (script) await rm(script, { force: true })
    await withClient(info.adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`))
  })

  async function runScript() {
    const { stdout } = await run(process.execPath, [...NODE_ARGS, fileURLToPath(script!)], {
      cwd: fileURLToPath(here),
      env: { ...process.env, ADMIN_DATABASE_URL: adminUrl, DATABASE_URL: appUrl },
      timeout: 50_000,
    })
    return stdout
  }

  test('the first screen runs as written on a fresh database, and again on the same one', async () => {
    const seen: string[] = []
    for (let attempt = 0; attempt < 2; attempt++) {
      const stdout = await runScript()
      // Each run sees only its own new tenant's row, although the first run's row is in the table.
      const tenants = [...stdout.matchAll(/(?:tenant_id|tenantId): '([0-9a-f-]{36})'/g)].map((match) => match[1]!)
      expect(tenants).toHaveLength(1)
      expect(stdout).toContain("name: 'Roadmap 2'")
      expect(stdout).toContain('TENANT_CONTEXT_MISSING')
      seen.push(tenants[0]!)
    }
    const rows = await withClient(adminUrl, async (admin) => (await admin.query('SELECT tenant_id FROM projects')).rows)
    expect(rows.map((row) => row.tenant_id).sort()).toEqual([...seen].sort())
    // The app ran as a role RLS applies to: not superuser, not BYPASSRLS, owning no table.
    const role = await withClient(
      adminUrl,
      async (admin) =>
        (
          await admin.query(`
          SELECT r.rolsuper, r.rolbypassrls, (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid)::int AS owned
            FROM pg_roles r WHERE r.rolname = 'app_user'`)
        ).rows,
    )
    expect(role).toEqual([{ rolsuper: false, rolbypassrls: false, owned: 0 }])
  })
})
