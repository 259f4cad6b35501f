import { randomUUID } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase, MAINTENANCE_ROLE, type TestDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { runCli } from '../run-cli.js'

// tenantscope tenant export | erase | import, end to end through the real bin,
// connected as the maintenance role.
describe('tenantscope tenant', () => {
  let db: TestDatabase
  let admin: pg.Client
  let folder: string
  const A = randomUUID()
  const B = randomUUID()
  const count = async (tenant: string) =>
    (
      await admin.query(
        `SELECT (SELECT count(*) FROM projects WHERE tenant_id = $1) + (SELECT count(*) FROM invoices WHERE tenant_id = $1) + (SELECT count(*) FROM tenants WHERE id = $1) AS n`,
        [tenant],
      )
    ).rows[0].n

  beforeAll(async () => {
    db = await createTestDatabase()
    admin = new pg.Client({ connectionString: db.adminUrl })
    await admin.connect()
    await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${MAINTENANCE_ROLE.name};
      GRANT USAGE ON SCHEMA tenantscope TO ${MAINTENANCE_ROLE.name}; GRANT SELECT, INSERT ON tenantscope.tenant_erasures TO ${MAINTENANCE_ROLE.name}`)
    for (const [id, name] of [
      [A, 'acme'],
      [B, 'globex'],
    ]) {
      await admin.query(`INSERT INTO tenants (id, name) VALUES ($1, $2)`, [id, name])
      const { rows } = await admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'p1'), ($1, 'p2') RETURNING id`, [id])
      await admin.query(`INSERT INTO invoices (tenant_id, project_id, amount_cents) VALUES ($1, $2, 10)`, [id, rows[0].id])
    }
    folder = await mkdtemp(join(tmpdir(), 'tenantscope-cli-tenant-'))
  })
  afterAll(async () => {
    await admin?.end()
    await db?.drop()
    await rm(folder, { recursive: true, force: true })
  })

  test('export, erase (dry run, refused, forced) and import, with JSON for machines', async () => {
    const out = join(folder, 'acme')
    const exported = await runCli(['tenant', 'export', '--tenant', A, '--out', out, '--json', '--database-url', db.maintenanceUrl])
    expect(exported.stderr).toBe('')
    expect(exported.code).toBe(0)
    const manifest = JSON.parse(exported.stdout)
    expect(manifest.tenantId).toBe(A)
    expect(Object.fromEntries(manifest.tables.map((t: { name: string; rows: number }) => [t.name, t.rows]))).toMatchObject({
      'public.tenants': 1,
      'public.projects': 2,
      'public.invoices': 1,
    })
    expect(await readdir(out)).toContain('manifest.json')

    const dry = await runCli(['tenant', 'erase', '--tenant', A, '--dry-run'], { DATABASE_URL: db.maintenanceUrl })
    expect(dry).toMatchObject({ code: 0 })
    expect(dry.stdout).toMatch(/^Would erase 4 rows:/)
    expect(dry.stdout).toMatch(/public\.projects: 2/)
    const refused = await runCli(['tenant', 'erase', '--tenant', A], { DATABASE_URL: db.maintenanceUrl })
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/^tenantscope tenant erase: ERASE_REFUSED: /)
    expect(await count(A)).toBe('4')

    const erased = await runCli(['tenant', 'erase', '--tenant', A, '--force', '--json'], { DATABASE_URL: db.maintenanceUrl })
    expect(erased.code).toBe(0)
    expect(JSON.parse(erased.stdout)).toMatchObject({ rows: 4, verified: true, recorded: true })
    expect(await count(A)).toBe('0')
    expect(await count(B)).toBe('4')

    const imported = await runCli(['tenant', 'import', '--in', out], { DATABASE_URL: db.maintenanceUrl })
    expect(imported.code).toBe(0)
    expect(imported.stdout).toBe('Imported 4 rows into 4 tables; counts and checksums verified\n')
    expect(await count(A)).toBe('4')
    const again = await runCli(['tenant', 'import', '--in', out, '--json'], { DATABASE_URL: db.maintenanceUrl })
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/TENANT_EXISTS/)
  })

  test('create, list and drop go to the tenant directory (@tenantscope/router)', async () => {
    const id = randomUUID()
    expect(await runCli(['tenant', 'create', id, '--strategy', 'pool'], { DATABASE_URL: db.adminUrl })).toMatchObject({ code: 0 })
    const listed = await runCli(['tenant', 'list', '--json'], { DATABASE_URL: db.adminUrl })
    expect(listed.code).toBe(0)
    expect(listed.stdout).toContain(id)
    expect(await runCli(['tenant', 'drop', id, '--yes'], { DATABASE_URL: db.adminUrl })).toMatchObject({ code: 0 })
    expect((await runCli(['tenant', 'list', '--json'], { DATABASE_URL: db.adminUrl })).stdout).not.toContain(id)
  })

  test('bad input: a malformed id exits 1 without echoing it; a missing option exits 2', async () => {
    const bad = "acme' OR 1=1 --"
    const result = await runCli(['tenant', 'export', '--tenant', bad, '--out', join(folder, 'bad')], { DATABASE_URL: db.maintenanceUrl })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/INVALID_TENANT_ID/)
    expect(result.stderr).not.toContain(bad)
    expect(await runCli(['tenant', 'erase', '--force'], { DATABASE_URL: db.maintenanceUrl })).toMatchObject({
      code: 2,
      stderr: 'tenantscope tenant: erase needs --tenant\n',
    })
    expect(await runCli(['tenant', 'move'], { DATABASE_URL: db.maintenanceUrl })).toMatchObject({ code: 2 })
  })

  test('erase --pace: a bad pace exits 2 with nothing erased; --pace 0 erases at full speed, and the receipt says so', async () => {
    for (const pace of ['-1', '101', 'fast', '', 'Infinity']) {
      expect(
        await runCli(['tenant', 'erase', '--tenant', B, '--force', `--pace=${pace}`], { DATABASE_URL: db.maintenanceUrl }),
      ).toMatchObject({
        code: 2,
        stderr: 'tenantscope tenant: --pace must be a number from 0 (full speed) to 100\n',
      })
    }
    expect(await count(B)).toBe('4')
    const erased = await runCli(['tenant', 'erase', '--tenant', B, '--force', '--pace', '0', '--json'], { DATABASE_URL: db.maintenanceUrl })
    expect(erased.code).toBe(0)
    // One batch for each table that held rows (tenants, projects, invoices), no pause.
    expect(JSON.parse(erased.stdout)).toMatchObject({ rows: 4, verified: true, batches: 3, pace: 0, pausedMs: 0 })
    expect(await count(B)).toBe('0')
  })
})
