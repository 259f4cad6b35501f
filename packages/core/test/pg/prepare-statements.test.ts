import { createTenantPool, type TenantPool, TenantScopeError, withTenant } from '@tenantscope/core'
import { createTestDatabase, startWireCounter, type TestDatabase, type WireCounter, withClient } from '@tenantscope/test-harness'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

// prepareStatements against PostgreSQL directly (through PgBouncer: core:pgbouncer).
describe('prepareStatements on a direct connection', () => {
  let db: TestDatabase
  let wire: WireCounter
  let pool: TenantPool
  let tenant: string

  beforeAll(async () => {
    db = await createTestDatabase()
    tenant = await withClient(db.adminUrl, async (admin) => {
      const { rows } = await admin.query<{ id: string }>(`INSERT INTO tenants (name) VALUES ('a') RETURNING id`)
      await admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'one'), ($1, 'two')`, [rows[0]!.id])
      // Advances a sequence, then raises feature_not_supported (0A000) while the statement runs.
      await admin.query(`CREATE SEQUENCE runs_seq; GRANT USAGE, SELECT ON SEQUENCE runs_seq TO PUBLIC`)
      await admin.query(`CREATE FUNCTION count_then_refuse() RETURNS int LANGUAGE plpgsql AS $$
        BEGIN PERFORM nextval('runs_seq'); RAISE EXCEPTION 'unsupported here' USING ERRCODE = 'feature_not_supported'; END $$`)
      return rows[0]!.id
    })
    const url = new URL(db.appUrl)
    wire = await startWireCounter({ host: url.hostname, port: Number(url.port || 5432) })
    pool = createTenantPool({ connectionString: wire.url(db.appUrl), max: 1 }, { prepareStatements: { max: 3 } })
  })

  afterAll(async () => {
    await pool?.end()
    await wire?.close()
    await db?.drop()
  })

  // The connection's prepared statements, read on the same (only) connection, unscoped and unnamed.
  const prepared = async (of: TenantPool = pool) =>
    (
      await of.unscopedPool.query<{ name: string; statement: string }>(
        `SELECT name, statement FROM pg_prepared_statements ORDER BY prepare_time`,
      )
    ).rows
  const userStatements = async (of: TenantPool = pool) => (await prepared(of)).filter((row) => row.name.startsWith('tenantscope_s_'))
  const run = async (text: string, values?: unknown[], of: TenantPool = pool) => {
    wire.reset()
    const result = await withTenant(tenant, () => of.query(text, values))
    return { rows: result.rows, ...wire.messages() } as { rows: Record<string, unknown>[] } & Record<string, number | undefined>
  }

  test("a statement is parsed once per connection, then only bound, and pg_prepared_statements holds it by its content's name", async () => {
    const text = 'SELECT name FROM projects WHERE name = $1'
    // The setter's Parse and the statement's, once ...
    expect(await run(text, ['one'])).toMatchObject({ rows: [{ name: 'one' }], P: 2, S: 1 })
    // ... then Bind only, for both.
    const again = await run(text, ['two'])
    expect(again).toMatchObject({ rows: [{ name: 'two' }], B: 2, S: 1 })
    expect(again.P).toBeUndefined()
    expect(await userStatements()).toEqual([{ name: expect.stringMatching(/^tenantscope_s_[0-9a-f]{32}$/), statement: text }])
  })

  test('a statement whose Parse failed takes no slot: it evicts no prepared statement', async () => {
    const texts = ['SELECT 1 AS a FROM projects LIMIT 1', 'SELECT 2 AS a FROM projects LIMIT 1']
    const capped = createTenantPool({ connectionString: wire.url(db.appUrl), max: 1 }, { prepareStatements: { max: 2 } })
    try {
      await run(texts[0]!, [], capped)
      await expect(run('SELECT no_such_column FROM projects', [], capped)).rejects.toMatchObject({ code: '42703' })
      const second = await run(texts[1]!, [], capped)
      expect(second.C).toBeUndefined()
      expect((await userStatements(capped)).map((row) => row.statement).sort()).toEqual(texts)
    } finally {
      await capped.end()
    }
  })

  test('at the cap, the least recently used statement is closed on the server (and parsed again when it comes back)', async () => {
    await pool.unscopedPool.query('DEALLOCATE ALL')
    const texts = ['SELECT 1 AS a FROM projects LIMIT 1', 'SELECT 2 AS a FROM projects LIMIT 1', 'SELECT 3 AS a FROM projects LIMIT 1']
    // After DEALLOCATE ALL the pool's connection was marked: a fresh pool, fresh connection.
    const capped = createTenantPool({ connectionString: wire.url(db.appUrl), max: 1 }, { prepareStatements: { max: 2 } })
    try {
      await run(texts[0]!, [], capped)
      await run(texts[1]!, [], capped)
      await run(texts[0]!, [], capped) // texts[0] is now the most recently used
      const third = await run(texts[2]!, [], capped) // evicts texts[1]
      expect(third.C).toBe(1) // the Close, in the same pipeline
      expect(third.S).toBe(1)
      expect((await userStatements(capped)).map((row) => row.statement).sort()).toEqual([texts[0], texts[2]])
      // texts[1] comes back: parsed again (setter already named: one Parse), evicting texts[0].
      expect(await run(texts[1]!, [], capped)).toMatchObject({ rows: [{ a: 2 }], P: 1, C: 1, S: 1 })
      expect((await userStatements(capped)).map((row) => row.statement).sort()).toEqual([texts[1], texts[2]])
    } finally {
      await capped.end()
    }
  })

  test('a table that changes shape (0A000 cached plan must not change result type) is retried unnamed, then prepared afresh', async () => {
    const fresh = createTenantPool({ connectionString: wire.url(db.appUrl), max: 1 }, { prepareStatements: true })
    try {
      const text = 'SELECT * FROM projects WHERE name = $1'
      const before = await run(text, ['one'], fresh)
      expect(Object.keys(before.rows[0]!)).not.toContain('extra')
      await withClient(db.adminUrl, (admin) => admin.query('ALTER TABLE projects ADD COLUMN extra int DEFAULT 7'))
      try {
        // Bind fails before anything runs; Close + setter + the statement unnamed, in a second pipeline.
        const after = await run(text, ['one'], fresh)
        expect(after).toMatchObject({ rows: [{ name: 'one', extra: 7 }], S: 2, C: 1 })
        // Named again on the next call, with the new shape.
        expect(await run(text, ['two'], fresh)).toMatchObject({ rows: [{ name: 'two', extra: 7 }], S: 1 })
        expect(await run(text, ['two'], fresh)).toMatchObject({ rows: [{ name: 'two', extra: 7 }], S: 1, B: 2 })
        expect((await userStatements(fresh)).map((row) => row.statement)).toEqual([text])
      } finally {
        await withClient(db.adminUrl, (admin) => admin.query('ALTER TABLE projects DROP COLUMN extra'))
      }
    } finally {
      await fresh.end()
    }
  })

  test('a 0A000 raised while the statement runs (not by the plan cache) is not retried: the statement ran once', async () => {
    await expect(withTenant(tenant, () => pool.query('SELECT count_then_refuse()'))).rejects.toMatchObject({ code: '0A000' })
    const { rows } = await pool.unscopedPool.query<{ n: string }>(`SELECT last_value AS n FROM runs_seq`)
    expect(Number(rows[0]!.n)).toBe(1)
  })

  test('DDL, utility statements, scripts and statements inside transactions are never named', async () => {
    const fresh = createTenantPool({ connectionString: wire.url(db.appUrl), max: 1 }, { prepareStatements: true })
    const pid = async () => (await fresh.unscopedPool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
    try {
      const before = await pid()
      await withTenant(tenant, async () => {
        await fresh.query('SHOW search_path')
        await fresh.query('DROP TABLE IF EXISTS no_such_table')
        await expect(fresh.query('SELECT 1; SELECT 2')).rejects.toMatchObject({ code: 'MULTI_STATEMENT_QUERY' })
        await fresh.transaction(async (client) => {
          await client.query('SELECT count(*) FROM projects')
        })
        const client = await fresh.connect()
        try {
          await client.query('SELECT name FROM projects')
        } finally {
          client.release()
        }
      })
      // Still the same connection: nothing was destroyed along the way.
      expect(await pid()).toBe(before)
      const statements = (
        await fresh.unscopedPool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'tenantscope_s_%'`,
        )
      ).rows
      expect(statements[0]!.n).toBe(0)
    } finally {
      await fresh.end()
    }
  })

  test("the user's own named statements keep their names", async () => {
    wire.reset()
    const result = await withTenant(tenant, () => pool.query({ name: 'mine', text: 'SELECT count(*)::int AS n FROM projects' }))
    expect(result.rows[0].n).toBe(2)
    expect((await prepared()).map((row) => row.name)).toContain('mine')
  })

  test('the option is checked: anything but true, false or { max: a positive integer } is INVALID_CONFIG', () => {
    for (const bad of [1, 'yes', { max: 0 }, { max: 1.5 }, { size: 3 }, null]) {
      expect(() => createTenantPool({ connectionString: db.appUrl }, { prepareStatements: bad as never })).toThrow(TenantScopeError)
    }
  })
})
