import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createTestDatabase, type TestDatabase, withClient } from '@tenantscope/test-harness'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

const suite = fileURLToPath(new URL('./fixtures/node-test-suite.mjs', import.meta.url))
// The suite imports the workspace packages from source, as every test does:
// tsx compiles them, the `@tenantscope/source` condition finds them (in
// NODE_OPTIONS, so the process node:test starts for the file gets both).
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
const NODE_OPTIONS = `--import=${tsx} --conditions=@tenantscope/source`

function runNodeTest(env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--test', suite],
      { env: { ...process.env, NODE_OPTIONS, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, output: stdout + stderr })
      },
    )
  })
}

describe('the kit under node:test', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase()
    const fixture = await readFile(new URL('./fixtures/broken.sql', import.meta.url), 'utf8')
    await withClient(db.adminUrl, (admin) => admin.query(fixture))
  })
  afterAll(async () => {
    await db.drop()
  })

  test('passes on the example tables and fails the run on a broken one, saying why', async () => {
    const env = { APP_DATABASE_URL: db.appUrl, ADMIN_DATABASE_URL: db.adminUrl }
    const good = await runNodeTest({ ...env, TABLES: 'projects,invoices' }) // users has a leaking view in this fixture
    expect(good.output).toMatch(/# pass 1/)
    expect(good.code).toBe(0)
    const bad = await runNodeTest({ ...env, TABLES: 'users,b_open_read' })
    expect(bad.code).toBe(1)
    expect(bad.output).toMatch(/# fail 1/)
    expect(bad.output).toContain('public.b_open_read [cross_tenant_read] tenant A sees 1 row(s) of other tenants')
  })
})
