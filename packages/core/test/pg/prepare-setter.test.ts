import { createTenantPool, type TenantPool, withTenant } from '@tenantscope/core'
import { createTestDatabase, startWireCounter, type TestDatabase, type WireCounter, withClient } from '@tenantscope/test-harness'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

// The named setter (the default; prepareSetter) against PostgreSQL directly
// (the PgBouncer side is in core:pgbouncer): what goes on the wire, and how
// a lost statement heals.
describe('the named setter on a direct connection', () => {
  let db: TestDatabase
  let wire: WireCounter
  let pool: TenantPool
  let tenant: string

  beforeAll(async () => {
    db = await createTestDatabase()
    tenant = await withClient(db.adminUrl, async (admin) => {
      const { rows } = await admin.query<{ id: string }>(`INSERT INTO tenants (name) VALUES ('a') RETURNING id`)
      await admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'one'), ($1, 'two')`, [rows[0]!.id])
      return rows[0]!.id
    })
    const url = new URL(db.appUrl)
    wire = await startWireCounter({ host: url.hostname, port: Number(url.port || 5432) })
    pool = createTenantPool({ connectionString: wire.url(db.appUrl), max: 1 })
  })

  afterAll(async () => {
    await pool?.end()
    await wire?.close()
    await db?.drop()
  })

  type Counted = Record<string, number> & { n: number }
  const count = async (): Promise<Counted> => {
    wire.reset()
    const n = await withTenant(tenant, async () => (await pool.query('SELECT count(*)::int AS n FROM projects')).rows[0].n)
    return { n, ...wire.messages() }
  }

  test('the setter is parsed once per connection, then only bound', async () => {
    expect(await count()).toMatchObject({ n: 2, P: 2, S: 1 })
    expect(await count()).toMatchObject({ n: 2, P: 1, S: 1 })
    const names = await withTenant(tenant, () => pool.query<{ name: string }>(`SELECT name FROM pg_prepared_statements`))
    expect(names.rows.map((row) => row.name)).toEqual([expect.stringMatching(/^tenantscope_[0-9a-f]{32}$/)])
  })

  test('prepareSetter: false parses the setter with every query and prepares nothing', async () => {
    const unnamed = createTenantPool({ connectionString: wire.url(db.appUrl), max: 1 }, { prepareSetter: false })
    try {
      const run = async () => {
        wire.reset()
        const n = await withTenant(tenant, async () => (await unnamed.query('SELECT count(*)::int AS n FROM projects')).rows[0].n)
        return { n, ...wire.messages() }
      }
      expect(await run()).toMatchObject({ n: 2, P: 2, S: 1 })
      expect(await run()).toMatchObject({ n: 2, P: 2, S: 1 })
      const names = await withTenant(tenant, () => unnamed.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_prepared_statements`))
      expect(names.rows[0]!.n).toBe(0)
    } finally {
      await unnamed.end()
    }
  })

  test('a statement lost on the server (DEALLOCATE ALL) is sent again unnamed in the same call', async () => {
    await pool.unscopedPool.query('DEALLOCATE ALL')
    expect(await count()).toMatchObject({ n: 2, S: 2 })
    // Parsed again by name on the next query, then bound only.
    expect(await count()).toMatchObject({ n: 2, P: 2, S: 1 })
    expect(await count()).toMatchObject({ n: 2, P: 1, S: 1 })
  })

  test("the user's own named statements still work next to the named setter", async () => {
    const named = () => withTenant(tenant, () => pool.query({ name: 'count_projects', text: 'SELECT count(*)::int AS n FROM projects' }))
    wire.reset()
    expect((await named()).rows[0].n).toBe(2)
    wire.reset()
    expect((await named()).rows[0].n).toBe(2)
    expect(wire.messages()).toMatchObject({ B: 2, S: 1 })
    expect(wire.messages().P).toBeUndefined()
  })

  test('a pool that keeps losing the statement stops naming the setter', async () => {
    const flaky = createTenantPool({ connectionString: wire.url(db.appUrl), max: 1 })
    try {
      const query = async (): Promise<Counted> => {
        await flaky.unscopedPool.query('DEALLOCATE ALL')
        wire.reset()
        const n = await withTenant(tenant, async () => (await flaky.query('SELECT count(*)::int AS n FROM projects')).rows[0].n)
        return { n, ...wire.messages() }
      }
      const retried: number[] = []
      for (let i = 0; i < 140; i++) {
        const result = await query()
        expect(result.n).toBe(2)
        if (result.S === 2) retried.push(i)
      }
      // Every other query missed (the statement was lost after each), up to
      // the limit of 64 missing statements in a window of 256 attempts ...
      expect(retried.length).toBe(64)
      // ... then the setter goes unnamed: one pipeline, no retry, every time.
      expect(await query()).toMatchObject({ n: 2, P: 2, S: 1 })
      expect(await query()).toMatchObject({ n: 2, P: 2, S: 1 })
    } finally {
      await flaky.end()
    }
  })
})
