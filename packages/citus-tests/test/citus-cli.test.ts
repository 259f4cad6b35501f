import { randomUUID } from 'node:crypto'
import { createTenantPool, withTenant } from '@tenantscope/core'
import { type CitusTestDatabase, createCitusTestDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { tenantscope } from './fixtures/run-cli.js'

describe('tenantscope citus isolate | move | stats', () => {
  let db: CitusTestDatabase
  let admin: pg.Pool
  const A = randomUUID()
  const B = randomUUID()

  beforeAll(async () => {
    db = await createCitusTestDatabase()
    admin = new pg.Pool({ connectionString: db.adminUrl, max: 2 })
    await admin.query(`INSERT INTO tenants (id, name) VALUES ($1, 'a'), ($2, 'b')`, [A, B])
    await admin.query(`INSERT INTO projects (tenant_id, name) SELECT $1::uuid, 'p' || i FROM generate_series(1, 50) AS i`, [A])
  })
  afterAll(async () => {
    await admin?.end()
    await db?.drop()
  })

  test('stats: routed queries per tenant, as a table and as JSON, busiest first', async () => {
    const pool = createTenantPool({ connectionString: db.appUrl, max: 2 }, { citus: true })
    try {
      // B first: whichever way a period boundary falls, A stays ahead of B.
      for (let i = 0; i < 3; i++) await withTenant(B, () => pool.query('SELECT count(*) FROM projects WHERE tenant_id = $1', [B]))
      for (let i = 0; i < 12; i++) await withTenant(A, () => pool.query('SELECT count(*) FROM projects WHERE tenant_id = $1', [A]))
    } finally {
      await pool.end()
    }
    // citus_stat_tenants is per server, shared with the other test files: find our tenants by id.
    // A period boundary (citus.stat_tenants_period) may move counts to the last period.
    const json = await tenantscope(['citus', 'stats', '--json', '--limit', '1000', '--database-url', db.adminUrl])
    expect(json).toMatchObject({ code: 0, stderr: '' })
    const stats = JSON.parse(json.stdout) as { tenant: string; queriesThisPeriod: number; queriesLastPeriod: number }[]
    const queries = (tenant: string) => {
      const found = stats.find((s) => s.tenant === tenant)
      return found ? found.queriesThisPeriod + found.queriesLastPeriod : 0
    }
    expect(queries(A)).toBeGreaterThanOrEqual(12)
    expect(queries(B)).toBeGreaterThanOrEqual(3)
    const order = stats.map((s) => s.tenant)
    expect(order.indexOf(A)).toBeLessThan(order.indexOf(B))

    const table = await tenantscope(['citus', 'stats', '--limit', '1000', '--database-url', db.adminUrl])
    expect(table.code).toBe(0)
    const lines = table.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^tenant\s+queries\s+reads\s+cpu s/)
    expect(lines.some((line) => new RegExp(`^${A}\\s+\\d+\\s+\\d+`).test(line))).toBe(true)
  })

  test('isolate, then move to the other worker; running either again changes nothing', async () => {
    const isolated = await tenantscope(['citus', 'isolate', '--table', 'projects', '--tenant', A, '--json', '--database-url', db.adminUrl])
    expect(isolated.code).toBe(0)
    const first = JSON.parse(isolated.stdout)
    expect(first).toMatchObject({ changed: true, shard: { isolated: true } })
    const again = await tenantscope(['citus', 'isolate', '--table', 'projects', '--tenant', A, '--database-url', db.adminUrl])
    expect(again).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^already isolated: shard \d+ on 127\.0\.0\.1:\d+ \(this tenant only\)/),
    })

    const moved = await tenantscope(['citus', 'move', '--table', 'projects', '--tenant', A, '--json', '--database-url', db.adminUrl])
    expect(moved.code).toBe(0)
    const result = JSON.parse(moved.stdout)
    expect(result.changed).toBe(true)
    expect(result.to.shardId).toBe(first.shard.shardId)
    expect(result.to.nodePort).not.toBe(first.shard.nodePort)
    const target = `127.0.0.1:${result.to.nodePort}`
    const stay = await tenantscope(['citus', 'move', '--table', 'projects', '--tenant', A, '--to', target, '--database-url', db.adminUrl])
    expect(stay).toMatchObject({ code: 0, stdout: expect.stringMatching(/^already there/) })
    // The rows moved with it, all of them.
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM projects WHERE tenant_id = $1`, [A])
    expect(rows[0].n).toBe(50)
  })

  test('check: exit 0 on the distributed example schema; exit 1 naming each table Citus cannot route or colocate', async () => {
    const url = ['--database-url', db.adminUrl]
    expect(await tenantscope(['citus', 'check', ...url])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^no Citus findings/) })
    await admin.query(`CREATE TABLE left_local (tenant_id uuid NOT NULL, id int, PRIMARY KEY (tenant_id, id))`)
    await admin.query(`CREATE TABLE by_id (tenant_id uuid NOT NULL, id int PRIMARY KEY)`)
    await admin.query(`SELECT create_distributed_table('by_id', 'id')`)
    await admin.query(`CREATE TABLE alone (tenant_id uuid NOT NULL, id int, PRIMARY KEY (tenant_id, id))`)
    await admin.query(`SELECT create_distributed_table('alone', 'tenant_id', colocate_with => 'none')`)
    await admin.query(`CREATE TABLE shared_notes (tenant_id uuid, body text)`)
    await admin.query(`SELECT create_reference_table('shared_notes')`)
    try {
      const check = await tenantscope(['citus', 'check', '--json', ...url])
      expect(check.code).toBe(1)
      expect(JSON.parse(check.stdout).map((f: { object: string; problem: string }) => [f.object, f.problem])).toEqual([
        ['public.alone', 'not_colocated'],
        ['public.by_id', 'distributed_by_other_column'],
        ['public.left_local', 'not_distributed'],
        ['public.shared_notes', 'reference_table_with_tenant_rows'],
      ])
    } finally {
      await admin.query('DROP TABLE left_local, by_id, alone, shared_notes')
    }
  })

  test('mistakes get one line and exit code 2: missing options, a table that is not distributed, a bad mode', async () => {
    const url = ['--database-url', db.adminUrl]
    expect(await tenantscope(['citus', 'isolate', '--table', 'projects', ...url])).toMatchObject({
      code: 2,
      stderr: 'tenantscope citus: citus isolate needs --table <name> and --tenant <id>\n',
    })
    await admin.query('CREATE TABLE IF NOT EXISTS local_only (tenant_id uuid)')
    const local = await tenantscope(['citus', 'move', '--table', 'local_only', '--tenant', A, ...url])
    expect(local).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^tenantscope citus: local_only is not a table distributed by a column/),
    })
    const mode = await tenantscope(['citus', 'move', '--table', 'projects', '--tenant', A, '--transfer-mode', 'fast', ...url])
    expect(mode).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--transfer-mode must be one of block_writes, auto, force_logical/),
    })
    const unknown = await tenantscope(['citus', 'nope', ...url])
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown citus command "nope"/) })
  })
})
