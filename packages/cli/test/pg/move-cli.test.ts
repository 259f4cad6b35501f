import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase, type TestDatabase, withDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { runCli } from '../run-cli.js'

const TABLES = `CREATE TABLE items (tenant_id uuid NOT NULL, id bigserial, body text NOT NULL, PRIMARY KEY (tenant_id, id));`

// tenantscope tenant move, end to end through the real bin: a pool tenant to
// a database of its own (made from the migrations folder), rerun, finished.
describe('tenantscope tenant move', () => {
  let db: TestDatabase
  let admin: pg.Client
  let folder: string
  const T = randomUUID()
  const database = `mvcli${randomBytes(3).toString('hex')}`

  beforeAll(async () => {
    db = await createTestDatabase()
    admin = new pg.Client({ connectionString: db.adminUrl })
    await admin.connect()
    await admin.query(`DROP TABLE invoices, projects, users, tenants CASCADE; ${TABLES}`)
    await admin.query(`INSERT INTO items (tenant_id, body) SELECT $1, 'row ' || g FROM generate_series(1, 500) g`, [T])
    await admin.query(`INSERT INTO tenantscope.tenant_directory (tenant_id, strategy) VALUES ($1, 'pool')`, [T])
    folder = await mkdtemp(join(tmpdir(), 'tenantscope-cli-move-'))
    await writeFile(join(folder, '0000_items.sql'), TABLES)
  })
  afterAll(async () => {
    await admin?.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
    await admin?.end()
    await db?.drop()
    await rm(folder, { recursive: true, force: true })
  })

  test('moves, answers a rerun with the same receipt, and erases the old copy only after --finish', async () => {
    const args = ['tenant', 'move', '--tenant', T, '--to', 'database', '--to-database', database, '--migrations', folder]
    // No app instance listens here: refused, nothing changed, unless --settle says how long to wait for unseen ones.
    const unseen = await runCli([...args, '--database-url', db.adminUrl])
    expect(unseen.code).toBe(1)
    expect(unseen.stderr).toMatch(/NO_LISTENERS/)
    expect((await admin.query(`SELECT state FROM tenantscope.tenant_directory WHERE tenant_id = $1`, [T])).rows).toEqual([
      { state: 'active' },
    ])
    args.push('--settle', '0')
    const moved = await runCli([...args, '--json', '--out', join(folder, 'archive'), '--database-url', db.adminUrl])
    expect(moved.stderr).toBe('')
    expect(moved.code).toBe(0)
    const receipt = JSON.parse(moved.stdout)
    expect(receipt).toMatchObject({ tenantId: T, rows: 500, to: { strategy: 'database', database }, resumed: false })
    const { rows } = await admin.query(`SELECT strategy, database_key, state FROM tenantscope.tenant_directory WHERE tenant_id = $1`, [T])
    expect(rows).toEqual([{ strategy: 'database', database_key: database, state: 'active' }])
    const there = new pg.Client({ connectionString: withDatabase(db.adminUrl, database) })
    await there.connect()
    expect((await there.query(`SELECT count(*)::int AS n FROM items WHERE tenant_id = $1`, [T])).rows).toEqual([{ n: 500 }])
    await there.end()

    const again = await runCli([...args, '--json', '--database-url', db.adminUrl])
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout)).toEqual(receipt)

    const early = await runCli(['tenant', 'move', '--tenant', T, '--finish', '--database-url', db.adminUrl])
    expect(early.code).toBe(1)
    expect(early.stderr).toMatch(/GRACE_PERIOD/)
    expect((await admin.query(`SELECT count(*)::int AS n FROM items WHERE tenant_id = $1`, [T])).rows).toEqual([{ n: 500 }])
    const finished = await runCli(['tenant', 'move', '--tenant', T, '--finish', '--force', '--database-url', db.adminUrl])
    expect(finished.code).toBe(0)
    expect((await admin.query(`SELECT count(*)::int AS n FROM items WHERE tenant_id = $1`, [T])).rows).toEqual([{ n: 0 }])
  })

  test('bad input: a clear refusal, nothing changed', async () => {
    const bad = await runCli(['tenant', 'move', '--tenant', 'not-a-uuid', '--to', 'pool', '--database-url', db.adminUrl])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/INVALID_TENANT_ID/)
    const unknown = await runCli(['tenant', 'move', '--tenant', randomUUID(), '--to', 'pool', '--database-url', db.adminUrl])
    expect(unknown.stderr).toMatch(/TENANT_NOT_FOUND/)
    const usage = await runCli(['tenant', 'move', '--tenant', T, '--database-url', db.adminUrl])
    expect(usage.code).toBe(2)
  })
})
