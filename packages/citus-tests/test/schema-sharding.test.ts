import { randomUUID } from 'node:crypto'
import { createTenantPool, type TenantPool, withTenant } from '@tenantscope/core'
import { type CitusTestDatabase, createCitusTestDatabase, startWireCounter, type WireCounter } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

// The harness hosts Citus's schema-based sharding too (for the schema-per-tenant
// strategy): each tenant schema is a single-shard distributed schema on one
// worker, search_path set in the same round trip routes to it, and
// citus_schema_move moves it while it keeps serving.
describe('schema-based sharding on the harness cluster', () => {
  let db: CitusTestDatabase
  let admin: pg.Pool
  let counter: WireCounter
  let pool: TenantPool
  const A = randomUUID()
  const B = randomUUID()

  beforeAll(async () => {
    db = await createCitusTestDatabase({ exampleSchema: false })
    admin = new pg.Pool({ connectionString: db.adminUrl, max: 1 })
    const client = await admin.connect()
    try {
      await client.query('SET citus.enable_schema_based_sharding = on')
      for (const schema of ['tenant_a', 'tenant_b']) {
        await client.query(`CREATE SCHEMA ${schema}`)
        await client.query(`CREATE TABLE ${schema}.notes (id int PRIMARY KEY, body text NOT NULL)`)
        await client.query(`INSERT INTO ${schema}.notes VALUES (1, '${schema} note')`)
        // Isolation here rests on grants: the app role may use both schemas in
        // this test, and reaches one only through search_path.
        await client.query(`GRANT USAGE ON SCHEMA ${schema} TO tenantscope_app`)
        await client.query(`GRANT SELECT, INSERT ON ${schema}.notes TO tenantscope_app`)
      }
    } finally {
      client.release()
    }
    counter = await startWireCounter({ host: '127.0.0.1', port: db.coordinatorPort })
    pool = createTenantPool({ connectionString: counter.url(db.appUrl), max: 1 })
  })
  afterAll(async () => {
    await pool?.end()
    await counter?.close()
    await admin?.end()
    await db?.drop()
  })

  const inSchema = <T>(tenant: string, schema: string, fn: () => Promise<T>) =>
    withTenant(tenant, fn, { settings: { search_path: schema } })

  test('each tenant schema is a distributed schema on one worker', async () => {
    const { rows } = await admin.query(`SELECT schema_name::text AS name FROM citus_schemas ORDER BY 1`)
    expect(rows.map((row) => row.name)).toEqual(['tenant_a', 'tenant_b'])
    const placements = await admin.query(
      `SELECT DISTINCT nodeport FROM citus_shards WHERE table_name::text IN ('tenant_a.notes', 'tenant_b.notes')`,
    )
    for (const { nodeport } of placements.rows) expect(db.workerPorts).toContain(Number(nodeport))
  })

  test('search_path set with the tenant, in the same round trip, routes to the tenant schema', async () => {
    await inSchema(A, 'tenant_a', () => pool.query('SELECT 1'))
    counter.reset()
    const a = await inSchema(A, 'tenant_a', () => pool.query('SELECT body FROM notes'))
    expect(counter.roundTrips()).toBe(1)
    expect(a.rows).toEqual([{ body: 'tenant_a note' }])
    const b = await inSchema(B, 'tenant_b', () => pool.query('SELECT body FROM notes'))
    expect(b.rows).toEqual([{ body: 'tenant_b note' }])
    const plan = await inSchema(A, 'tenant_a', () => pool.query('EXPLAIN (FORMAT JSON) SELECT body FROM notes WHERE id = 1'))
    expect(JSON.stringify(plan.rows[0]['QUERY PLAN'])).toMatch(/"Task Count":1\b/)
  })

  test('citus_schema_move moves a tenant schema to the other worker and it keeps serving', async () => {
    const before = await admin.query(`SELECT nodename, nodeport FROM citus_shards WHERE table_name = 'tenant_a.notes'::regclass`)
    const from = Number(before.rows[0].nodeport)
    const to = db.workerPorts.find((port) => port !== from)!
    await admin.query(`SELECT citus_schema_move('tenant_a', '127.0.0.1', $1, shard_transfer_mode => 'block_writes')`, [to])
    const after = await admin.query(`SELECT nodeport FROM citus_shards WHERE table_name = 'tenant_a.notes'::regclass`)
    expect(Number(after.rows[0].nodeport)).toBe(to)
    await inSchema(A, 'tenant_a', () => pool.query(`INSERT INTO notes VALUES (2, 'after the move')`))
    const a = await inSchema(A, 'tenant_a', () => pool.query('SELECT body FROM notes ORDER BY id'))
    expect(a.rows.map((row) => row.body)).toEqual(['tenant_a note', 'after the move'])
  })
})
