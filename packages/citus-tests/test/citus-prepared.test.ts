import { randomUUID } from 'node:crypto'
import { createTenantPool, type TenantPool, withTenant } from '@tenantscope/core'
import { type CitusTestDatabase, createCitusTestDatabase, startWireCounter, type WireCounter } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'

// prepareStatements in Citus mode: pool.query's statement is a named
// statement inside the pool's own BEGIN/COMMIT. Citus then plans it once per
// connection (a generic plan, the shard picked at execution: "deferred
// pruning"), which must still route each call to its own tenant's shard.
// Connected as the app role (not superuser, not BYPASSRLS, owns nothing).
describe('createTenantPool(pool, { citus: true, prepareStatements: true })', () => {
  let db: CitusTestDatabase
  let admin: pg.Pool
  let counter: WireCounter
  let pool: TenantPool
  const A = randomUUID()
  const B = randomUUID()
  const aProject = randomUUID()
  const bProject = randomUUID()
  const POINT = 'SELECT id, tenant_id, name FROM projects WHERE tenant_id = $1 AND id = $2'

  beforeAll(async () => {
    db = await createCitusTestDatabase()
    admin = new pg.Pool({ connectionString: db.adminUrl, max: 2 })
    await admin.query(`INSERT INTO tenants (id, name) VALUES ($1, 'a'), ($2, 'b')`, [A, B])
    counter = await startWireCounter({ host: '127.0.0.1', port: db.coordinatorPort })
    pool = createTenantPool({ connectionString: counter.url(db.appUrl), max: 1 }, { citus: true, prepareStatements: true })
  })
  afterAll(async () => {
    await pool?.end()
    await counter?.close()
    await admin?.end()
    await db?.drop()
  })
  beforeEach(async () => {
    await admin.query('DELETE FROM projects')
    await admin.query(`INSERT INTO projects (tenant_id, id, name) VALUES ($1, $3, 'a1'), ($2, $4, 'b1')`, [A, B, aProject, bProject])
  })

  // What the one connection holds under the statement's text.
  const prepared = async (text: string) => {
    const { rows } = await withTenant(A, () =>
      pool.query('SELECT name, generic_plans::int AS generic FROM pg_prepared_statements WHERE statement = $1', [text]),
    )
    return rows as { name: string; generic: number }[]
  }

  test('the statement is named inside BEGIN/COMMIT: parsed once, then only BEGIN and COMMIT are parsed; still one round trip', async () => {
    await withTenant(A, () => pool.query(POINT, [A, aProject]))
    counter.reset()
    const { rows } = await withTenant(A, () => pool.query(POINT, [A, aProject]))
    expect(rows).toEqual([{ id: aProject, tenant_id: A, name: 'a1' }])
    expect(counter.roundTrips()).toBe(1)
    // BEGIN and COMMIT parsed; the setter and the statement named, held by the connection.
    expect(counter.messages()).toMatchObject({ P: 2, B: 4, E: 4, S: 1 })
    expect(await prepared(POINT)).toHaveLength(1)
  })

  test('once Citus plans it generically, each call still reaches its own tenant shard, and RLS still decides on the worker', async () => {
    for (let i = 0; i < 8; i++) {
      expect((await withTenant(A, () => pool.query(POINT, [A, aProject]))).rows).toEqual([{ id: aProject, tenant_id: A, name: 'a1' }])
      expect((await withTenant(B, () => pool.query(POINT, [B, bProject]))).rows).toEqual([{ id: bProject, tenant_id: B, name: 'b1' }])
    }
    const [statement] = await prepared(POINT)
    expect(statement!.generic).toBeGreaterThan(0)
    // Another tenant's key, as B: routed to A's shard, where the policy shows B nothing.
    expect((await withTenant(B, () => pool.query(POINT, [A, aProject]))).rows).toEqual([])
    // The cached plan is a router plan: one task.
    const explained = await withTenant(A, () => pool.query(`EXPLAIN (FORMAT JSON) EXECUTE ${statement!.name}('${A}', '${aProject}')`))
    const counts = JSON.stringify(explained.rows[0]['QUERY PLAN']).match(/"Task Count":(\d+)/g)
    expect(counts).toEqual(['"Task Count":1'])
  })

  test('writes through named statements land with their tenant', async () => {
    const insert = `INSERT INTO projects (name) VALUES ($1) RETURNING tenant_id, name`
    for (let i = 0; i < 7; i++) {
      expect((await withTenant(i % 2 ? A : B, () => pool.query(insert, [`n${i}`]))).rows).toEqual([
        { tenant_id: i % 2 ? A : B, name: `n${i}` },
      ])
    }
    const { rows } = await admin.query(`SELECT tenant_id, count(*)::int AS n FROM projects WHERE name LIKE 'n%' GROUP BY 1 ORDER BY 2`)
    expect(rows).toEqual([
      { tenant_id: A, n: 3 },
      { tenant_id: B, n: 4 },
    ])
  })

  test('a named statement the connection lost is rolled back and sent again unnamed: it runs once, with its tenant, and is named again next time', async () => {
    const insert = `INSERT INTO projects (name) VALUES ($1) RETURNING tenant_id, name`
    await withTenant(B, () => pool.query(insert, ['first']))
    const [statement] = await prepared(insert)
    // The server forgets it and the pool does not see it go (as when a pooler
    // moves the client): pg still thinks the connection holds it.
    await admin.query(`
      CREATE OR REPLACE FUNCTION forget_statement(statement text) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN EXECUTE format('DEALLOCATE %I', statement); END $$`)
    await admin.query('GRANT EXECUTE ON FUNCTION forget_statement(text) TO tenantscope_app')
    const pid = async () => (await withTenant(A, () => pool.query('SELECT pg_backend_pid() AS pid'))).rows[0].pid
    const before = await pid()
    await withTenant(A, () => pool.query('SELECT forget_statement($1)', [statement!.name]))
    expect(await prepared(insert)).toEqual([])
    counter.reset()
    const again = await withTenant(B, () => pool.query(insert, ['second']))
    expect(again.rows).toEqual([{ tenant_id: B, name: 'second' }])
    // The failed attempt (26000 at Bind, after the setter), its ROLLBACK, the retry.
    expect(counter.roundTrips()).toBe(3)
    const { rows } = await admin.query(`SELECT tenant_id, count(*)::int AS n FROM projects WHERE name = 'second' GROUP BY 1`)
    expect(rows).toEqual([{ tenant_id: B, n: 1 }])
    // Named again on the next call (Parse of BEGIN, the statement, COMMIT), then held.
    counter.reset()
    await withTenant(A, () => pool.query(insert, ['third']))
    expect(counter.messages()).toMatchObject({ P: 3 })
    expect(await prepared(insert)).toHaveLength(1)
    expect(await pid()).toBe(before) // all on the one connection
  })

  test('each connection holds at most `max` named statements: the least recently used is closed on the server', async () => {
    const capped = createTenantPool({ connectionString: db.appUrl, max: 1 }, { citus: true, prepareStatements: { max: 2 } })
    try {
      for (const column of ['id', 'name', 'created_at']) {
        await withTenant(A, () => capped.query(`SELECT ${column} FROM projects WHERE tenant_id = $1`, [A]))
      }
      // This statement is named too: it and the last one above are what the connection holds.
      const held = await withTenant(A, () =>
        capped.query(`SELECT statement FROM pg_prepared_statements WHERE name LIKE 'tenantscope_s_%' ORDER BY statement`),
      )
      expect(held.rows.map((row) => row.statement)).toEqual([
        `SELECT created_at FROM projects WHERE tenant_id = $1`,
        `SELECT statement FROM pg_prepared_statements WHERE name LIKE 'tenantscope_s_%' ORDER BY statement`,
      ])
    } finally {
      await capped.end()
    }
  })

  test('a named statement that fails while it runs rolls back, reports its SQLSTATE once, and the connection serves the next call', async () => {
    const failing = `WITH written AS (INSERT INTO projects (name) VALUES ($1) RETURNING 1) SELECT 1 / $2::int FROM written`
    await withTenant(A, () => pool.query(failing, ['fine', 1]))
    await expect(withTenant(A, () => pool.query(failing, ['half', 0]))).rejects.toMatchObject({ code: '22012' })
    const { rows } = await admin.query(`SELECT name FROM projects WHERE name IN ('fine', 'half')`)
    expect(rows).toEqual([{ name: 'fine' }])
    expect((await withTenant(B, () => pool.query(POINT, [B, bProject]))).rows).toEqual([{ id: bProject, tenant_id: B, name: 'b1' }])
  })
})
