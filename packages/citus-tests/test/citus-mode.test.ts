import { randomUUID } from 'node:crypto'
import { createTenantPool, setConfigSetter, setLocalSetter, type TenantPool, TenantScopeError, withTenant } from '@tenantscope/core'
import { type CitusTestDatabase, createCitusTestDatabase, startWireCounter, type WireCounter } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'

// The pool's Citus mode on a coordinator with two workers, connected as the
// app role (not superuser, not BYPASSRLS, owns nothing).
describe('createTenantPool(pool, { citus: true })', () => {
  let db: CitusTestDatabase
  let admin: pg.Pool
  let counter: WireCounter
  let pool: TenantPool
  const A = randomUUID()
  const B = randomUUID()

  beforeAll(async () => {
    db = await createCitusTestDatabase()
    admin = new pg.Pool({ connectionString: db.adminUrl, max: 2 })
    await admin.query(`INSERT INTO tenants (id, name) VALUES ($1, 'a'), ($2, 'b')`, [A, B])
    counter = await startWireCounter({ host: '127.0.0.1', port: db.coordinatorPort })
    pool = createTenantPool({ connectionString: counter.url(db.appUrl), max: 1 }, { citus: true })
  })
  afterAll(async () => {
    await pool?.end()
    await counter?.close()
    await admin?.end()
    await db?.drop()
  })
  beforeEach(async () => {
    await admin.query('DELETE FROM projects')
    await admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'a1'), ($2, 'b1')`, [A, B])
  })

  const names = async (run: () => Promise<pg.QueryResult>) => (await run()).rows.map((row) => row.name).sort()

  test('pool.query sees and writes only its tenant, in one round trip: BEGIN, setter, statement, COMMIT before one Sync', async () => {
    await withTenant(A, () => pool.query('SELECT 1')) // connect outside the count
    counter.reset()
    expect(await withTenant(A, () => names(() => pool.query('SELECT name FROM projects')))).toEqual(['a1'])
    expect(counter.roundTrips()).toBe(1)
    // The setter is a named statement the connection already holds: no Parse of its own.
    expect(counter.messages()).toMatchObject({ P: 3, B: 4, E: 4, S: 1 })
    // The tenant column's default is evaluated on the coordinator, in the transaction that carries the tenant.
    const inserted = await withTenant(B, () => pool.query(`INSERT INTO projects (name) VALUES ('b2') RETURNING tenant_id`))
    expect(inserted.rows).toEqual([{ tenant_id: B }])
    expect(await withTenant(B, () => names(() => pool.query('SELECT name FROM projects')))).toEqual(['b1', 'b2'])
    expect(await withTenant(A, () => pool.query(`UPDATE projects SET name = name || '!'`))).toMatchObject({ rowCount: 1 })
    expect(await withTenant(A, () => pool.query('DELETE FROM projects'))).toMatchObject({ rowCount: 1 })
    const { rows } = await admin.query('SELECT tenant_id, name FROM projects ORDER BY name')
    expect(rows).toEqual([
      { tenant_id: B, name: 'b1' },
      { tenant_id: B, name: 'b2' },
    ])
  })

  test('a named setter the connection lost (DEALLOCATE ALL) is rolled back and sent again unnamed: the statement runs once, with its tenant', async () => {
    await withTenant(A, () => pool.query('SELECT 1'))
    await withTenant(A, () => pool.query('DEALLOCATE ALL'))
    counter.reset()
    const inserted = await withTenant(B, () => pool.query(`INSERT INTO projects (name) VALUES ('b2') RETURNING tenant_id, name`))
    expect(inserted.rows).toEqual([{ tenant_id: B, name: 'b2' }])
    // The failed attempt, its ROLLBACK, the retry with the setter parsed.
    expect(counter.roundTrips()).toBe(3)
    expect(await withTenant(B, () => names(() => pool.query('SELECT name FROM projects')))).toEqual(['b1', 'b2'])
    expect(await withTenant(A, () => names(() => pool.query('SELECT name FROM projects')))).toEqual(['a1'])
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM projects WHERE name = 'b2'`)
    expect(rows[0].n).toBe(1)
    // The connection is idle and holds the setter again: one round trip, no Parse for it.
    counter.reset()
    await withTenant(A, () => pool.query('SELECT 1'))
    expect(counter.roundTrips()).toBe(1)
    expect(counter.messages()).toMatchObject({ P: 3 })
  })

  test('without Citus mode the same pool fails closed on Citus (0 rows): the mode is what makes it work', async () => {
    for (const setter of [setConfigSetter, setLocalSetter]) {
      const plain = createTenantPool({ connectionString: db.appUrl, max: 1 }, { setter })
      try {
        expect(await withTenant(A, () => names(() => plain.query('SELECT name FROM projects')))).toEqual([])
      } finally {
        await plain.end()
      }
    }
  })

  test('the app role carries no citus.propagate_set_commands: the mode sets it in the same statement as the tenant', async () => {
    const { rows } = await admin.query(
      `SELECT count(*)::int AS n FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
        WHERE r.rolname = 'tenantscope_test_app' AND array_to_string(s.setconfig, ',') LIKE '%propagate_set_commands%'`,
    )
    expect(rows[0].n).toBe(0)
    const raw = new pg.Client({ connectionString: db.appUrl })
    await raw.connect()
    try {
      expect((await raw.query(`SELECT current_setting('citus.propagate_set_commands') AS v`)).rows[0].v).toBe('none')
    } finally {
      await raw.end()
    }
    expect(await withTenant(A, () => names(() => pool.query('SELECT name FROM projects')))).toEqual(['a1'])
  })

  test('a failing statement rolls back what it wrote, reaches the caller with its SQLSTATE, and leaves the connection idle', async () => {
    const pid = (await withTenant(A, () => pool.query('SELECT pg_backend_pid() AS pid'))).rows[0].pid
    const failing = withTenant(A, () =>
      pool.query(`WITH written AS (INSERT INTO projects (name) VALUES ('half') RETURNING 1) SELECT 1 / 0 FROM written`),
    )
    await expect(failing).rejects.toMatchObject({ code: '22012' })
    // The same physical connection, reused: idle, no tenant on it.
    const { rows } = await pool.unscopedPool.query(
      `SELECT pg_backend_pid() AS pid, current_setting('app.current_tenant', true) AS tenant, now() = statement_timestamp() AS fresh`,
    )
    expect(rows[0]).toMatchObject({ pid, fresh: true })
    expect(rows[0].tenant ?? '').toBe('')
    const all = await admin.query(`SELECT count(*)::int AS n FROM projects WHERE name = 'half'`)
    expect(all.rows[0].n).toBe(0)
  })

  test("Citus's internal error for a shard that was split or moved arrives as the typed, retryable CITUS_SHARD_MOVED", async () => {
    // The error Citus raises when a statement meets a shard that a split just replaced
    // (seen under load by tenant-moves.test.ts), raised here on demand.
    await admin.query(`
      CREATE OR REPLACE FUNCTION meets_a_moved_shard() RETURNS int LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'could not find valid entry for shard 102031' USING ERRCODE = 'XX000'; END $$`)
    await admin.query('GRANT EXECUTE ON FUNCTION meets_a_moved_shard() TO tenantscope_app')
    const failing = withTenant(A, () => pool.query('SELECT meets_a_moved_shard()'))
    await expect(failing).rejects.toSatisfy(
      (error) => TenantScopeError.is(error, 'CITUS_SHARD_MOVED') && (error.cause as { code?: string }).code === 'XX000',
    )
    // The pool goes on serving the tenant.
    const next = await withTenant(A, () => pool.query('SELECT name FROM projects'))
    expect(next.rows).toEqual([{ name: 'a1' }])
  })

  test('pool.transaction carries the tenant to the workers and rolls back on throw', async () => {
    const seen = await withTenant(A, () =>
      pool.transaction(async (tx) => {
        await tx.query(`INSERT INTO projects (name) VALUES ('a2')`)
        await tx.query(`INSERT INTO projects (name) VALUES ('a3')`)
        return names(() => tx.query('SELECT name FROM projects'))
      }),
    )
    expect(seen).toEqual(['a1', 'a2', 'a3'])
    const repeatable = await withTenant(B, () =>
      pool.transaction((tx) => names(() => tx.query('SELECT name FROM projects')), { isolationLevel: 'repeatable read' }),
    )
    expect(repeatable).toEqual(['b1'])
    const boom = new Error('boom')
    await expect(
      withTenant(B, () =>
        pool.transaction(async (tx) => {
          await tx.query(`INSERT INTO projects (name) VALUES ('rolled back')`)
          throw boom
        }),
      ),
    ).rejects.toBe(boom)
    expect(await withTenant(B, () => names(() => pool.query('SELECT name FROM projects')))).toEqual(['b1'])
  })

  test('pool.connect: statements outside a transaction are wrapped one by one; BEGIN ... COMMIT by hand carries the tenant', async () => {
    await withTenant(A, async () => {
      const client = await pool.connect()
      try {
        expect(await names(() => client.query('SELECT name FROM projects'))).toEqual(['a1'])
        await client.query('BEGIN')
        await client.query(`INSERT INTO projects (name) VALUES ('a2')`)
        expect(await names(() => client.query('SELECT name FROM projects'))).toEqual(['a1', 'a2'])
        await client.query('ROLLBACK')
        expect(await names(() => client.query('SELECT name FROM projects'))).toEqual(['a1'])
      } finally {
        client.release()
      }
    })
  })

  test('pool.connect: a statement queued behind a failing one runs in its own transaction, after the rollback', async () => {
    await withTenant(A, async () => {
      const client = await pool.connect()
      try {
        const failing = client.query('SELECT 1 / 0')
        const next = client.query('SELECT name FROM projects')
        await expect(failing).rejects.toMatchObject({ code: '22012' })
        expect((await next).rows.map((row) => row.name)).toEqual(['a1'])
      } finally {
        client.release()
      }
    })
  })

  test('a second setter cannot be mixed into Citus mode', () => {
    for (const setter of [setConfigSetter, setLocalSetter]) {
      expect(() => createTenantPool({ connectionString: db.appUrl }, { citus: true, setter })).toThrow(
        expect.objectContaining({ code: 'INVALID_CONFIG' }),
      )
    }
  })

  test('a cursor or a paged query outside a transaction is refused with CITUS_TRANSACTION_REQUIRED, before anything is sent', async () => {
    await withTenant(A, async () => {
      const client = await pool.connect()
      try {
        const cursorLike = new pg.Query('SELECT name FROM projects') as unknown as pg.Submittable & { callback?: unknown }
        const refused = new Promise((resolve) => {
          cursorLike.callback = (error: unknown) => resolve(error)
        })
        client.query(cursorLike)
        expect(TenantScopeError.is(await refused, 'CITUS_TRANSACTION_REQUIRED')).toBe(true)
        // pg's `rows` option pages the same way.
        await expect(client.query({ text: 'SELECT name FROM projects', rows: 1 } as never)).rejects.toSatisfy((error) =>
          TenantScopeError.is(error, 'CITUS_TRANSACTION_REQUIRED'),
        )
        await client.query('BEGIN')
        expect((await client.query({ text: 'SELECT name FROM projects', rows: 1 } as never)).rows).toHaveLength(1)
        await client.query('COMMIT')
        expect(await names(() => client.query('SELECT name FROM projects'))).toEqual(['a1'])
      } finally {
        client.release()
      }
    })
  })
})
