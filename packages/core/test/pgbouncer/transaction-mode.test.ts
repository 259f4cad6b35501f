import { randomUUID } from 'node:crypto'
import { createTenantPool, type TenantPool, TenantScopeError, withTenant } from '@tenantscope/core'
import {
  createTestDatabase,
  type PgBouncer,
  startPgBouncer,
  startWireCounter,
  type TestDatabase,
  withClient,
} from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

const TENANTS = Array.from({ length: 24 }, () => randomUUID())

describe('through PgBouncer in transaction mode', () => {
  let db: TestDatabase
  // One server connection: whatever one client leaves behind, the next gets.
  let single: PgBouncer
  // Two server connections for many clients: named statements meet
  // connections that lack them or already have them.
  let double: PgBouncer
  const pools: pg.Pool[] = []
  const newPool = (url: string, max = 10) => {
    const pool = new pg.Pool({ connectionString: url, max })
    // Idle connections die when a proxy or PgBouncer stops at the end.
    pool.on('error', () => undefined)
    pools.push(pool)
    return pool
  }

  beforeAll(async () => {
    db = await createTestDatabase()
    await withClient(db.adminUrl, async (admin) => {
      for (const [index, id] of TENANTS.entries()) {
        await admin.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [id, `tenant ${index}`])
        await admin.query(`INSERT INTO projects (tenant_id, name) SELECT $1, 'seeded ' || g FROM generate_series(1, $2::int) g`, [
          id,
          index + 1,
        ])
      }
    })
    single = await startPgBouncer(db.adminUrl, { poolSize: 1 })
    double = await startPgBouncer(db.adminUrl, { poolSize: 2 })
  })

  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)))
    await single?.stop()
    await double?.stop()
    await db?.drop()
  })

  // What an unscoped client sees on the (only) server connection.
  const leftover = (bouncer: PgBouncer) =>
    withClient(bouncer.url(db.appUrl), async (client) => {
      const setting = await client.query<{ value: string | null }>(`SELECT current_setting('app.current_tenant', true) AS value`)
      const visible = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM projects')
      // '' once the setting was ever set on that server connection, else null.
      return { setting: setting.rows[0]!.value || null, visible: visible.rows[0]!.n }
    })

  test('the setup multiplexes: many clients, at most poolSize server connections', async () => {
    const pool = newPool(double.url(db.appUrl), 8)
    const clients = await Promise.all(Array.from({ length: 8 }, () => pool.connect()))
    const pids = new Set<number>()
    for (let round = 0; round < 3; round++) {
      for (const client of clients) pids.add((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid)
    }
    clients.forEach((client) => client.release())
    expect(clients.length).toBe(8)
    expect(pids.size).toBeLessThanOrEqual(2)
  })

  test("the seed's session-level SET leaks a tenant to another client; tenantscope leaves nothing", async () => {
    const [a] = TENANTS as [string]
    // tenantscope first: one query and one transaction for tenant A ...
    const scoped = createTenantPool(newPool(single.url(db.appUrl), 4))
    await withTenant(a, async () => {
      expect((await scoped.query('SELECT count(*)::int AS n FROM projects')).rows[0].n).toBe(1)
      await scoped.transaction(async (client) => client.query(`INSERT INTO projects (name) VALUES ('from tenantscope')`))
    })
    // ... leave nothing for a client that sets no tenant: fail closed.
    expect(await leftover(single)).toEqual({ setting: null, visible: 0 })

    // The seed's pattern, through the same PgBouncer: client A sets its
    // tenant for the session and goes away; client B never sets one.
    await withClient(single.url(db.appUrl), (client) => client.query(`SET app.current_tenant = '${a}'`))
    const leaked = await leftover(single)
    expect(leaked.setting).toBe(a)
    expect(leaked.visible).toBe(2)
    await withClient(single.url(db.appUrl), (client) => client.query('RESET app.current_tenant'))
  })

  test('after each query and transaction, committed, failed or rolled back, the server connection is clean', async () => {
    const [a, b] = TENANTS as [string, string]
    const named = createTenantPool(newPool(single.url(db.appUrl), 4))
    const unnamed = createTenantPool(newPool(single.url(db.appUrl), 4), { prepareSetter: false })
    for (const scoped of [named, unnamed]) {
      const steps: Array<[string, () => Promise<unknown>]> = [
        ['a query', () => scoped.query('SELECT count(*) FROM projects')],
        ['a committed transaction', () => scoped.transaction((client) => client.query(`UPDATE projects SET name = name`))],
        ['a failing statement', () => expect(scoped.query('SELECT 1 / 0')).rejects.toMatchObject({ code: '22012' })],
        [
          'an insert for another tenant',
          () =>
            expect(scoped.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'other tenant')`, [b])).rejects.toMatchObject({
              code: '42501',
            }),
        ],
        [
          'a transaction that throws',
          () =>
            expect(
              scoped.transaction(async (client) => {
                await client.query(`INSERT INTO projects (name) VALUES ('rolled back')`)
                throw new Error('abort')
              }),
            ).rejects.toThrow('abort'),
        ],
        [
          'a transaction whose statement failed',
          () =>
            expect(
              scoped.transaction(async (client) => void (await client.query('SELECT 1 / 0').catch(() => undefined))),
            ).rejects.toSatisfy((error) => TenantScopeError.is(error, 'TRANSACTION_ROLLED_BACK')),
        ],
        [
          'a client released mid-transaction',
          async () => {
            const client = await scoped.connect()
            await client.query('BEGIN')
            await client.query(`INSERT INTO projects (name) VALUES ('released mid-transaction')`)
            client.release()
          },
        ],
      ]
      for (const [step, run] of steps) {
        await withTenant(a, run)
        expect({ step, ...(await leftover(single)) }).toEqual({ step, setting: null, visible: 0 })
      }
    }
    const names = await withClient(db.adminUrl, (admin) =>
      admin.query(`SELECT name FROM projects WHERE name IN ('rolled back', 'released mid-transaction', 'other tenant')`),
    )
    expect(names.rows).toEqual([])
  })

  test.each([
    ['default options: named setter', {}],
    ['prepareSetter: false', { prepareSetter: false }],
    ['prepareStatements: true', { prepareStatements: true }],
  ] as const)('200+ concurrent tasks of 24 tenants over 2 server connections stay isolated (%s)', async (_, options) => {
    const wire = await startWireCounter({ host: '127.0.0.1', port: double.port })
    const pool = createTenantPool(newPool(wire.url(db.appUrl), 12), options)
    const tasks = Array.from({ length: 240 }, (_, index) => {
      const tenant = TENANTS[index % TENANTS.length]!
      return withTenant(tenant, async () => {
        if (index % 3 === 0) {
          await pool.transaction(async (client) => {
            await client.query(`INSERT INTO projects (name) VALUES ($1)`, [`task ${index}`])
            const { rows } = await client.query<{ tenant_id: string }>('SELECT DISTINCT tenant_id FROM projects')
            expect(rows).toEqual([{ tenant_id: tenant }])
          })
        } else {
          await pool.query(`INSERT INTO projects (name) VALUES ($1)`, [`task ${index}`])
        }
        const { rows } = await pool.query<{ tenant_id: string; setting: string }>(
          `SELECT DISTINCT tenant_id, current_setting('app.current_tenant') AS setting FROM projects`,
        )
        expect(rows).toEqual([{ tenant_id: tenant, setting: tenant }])
      })
    })
    await Promise.all(tasks)
    // Every setter is a Bind; unnamed, each comes with its Parse. Named, a
    // Parse goes only to a connection not yet known to hold the statement
    // (and with the few retries after PgBouncer moved a client).
    const { P = 0, B = 0 } = wire.messages()
    await wire.close()
    if ('prepareSetter' in options) expect(P).toBe(B)
    // Named statements that PgBouncer 1.18 moved between server connections
    // were retried (the counts and the rows above); isolation is what counts.
    else if (!('prepareStatements' in options)) expect(P).toBeLessThan(B * 0.75)
    const counts = await withClient(db.adminUrl, (admin) =>
      admin.query<{ tenant_id: string; n: number }>(
        `SELECT tenant_id, count(*)::int AS n FROM projects WHERE name LIKE 'task %' GROUP BY tenant_id`,
      ),
    )
    expect(counts.rows).toHaveLength(TENANTS.length)
    expect(counts.rows.every((row) => row.n === 10)).toBe(true)
    await withClient(db.adminUrl, (admin) => admin.query(`DELETE FROM projects WHERE name LIKE 'task %'`))
    expect(await leftover(double)).toMatchObject({ visible: 0 })
  })

  test('the named setter: a missing (26000) or duplicate (42P05) statement is retried unnamed, never surfaced', async () => {
    const [a] = TENANTS as [string]
    const wire = await startWireCounter({ host: '127.0.0.1', port: single.port })
    try {
      const first = createTenantPool(newPool(wire.url(db.appUrl), 1))
      const second = createTenantPool(newPool(wire.url(db.appUrl), 1))
      const count = (pool: TenantPool) => withTenant(a, async () => (await pool.query('SELECT count(*)::int AS n FROM projects')).rows[0].n)
      const syncs = async (run: () => Promise<unknown>) => {
        wire.reset()
        expect(await run()).toBe(2)
        return wire.messages().S ?? 0
      }
      // First use: Parse(named) succeeds on the one server connection.
      expect(await syncs(() => count(first))).toBe(1)
      // Known to this client connection: Bind only, still one pipeline.
      wire.reset()
      expect(await count(first)).toBe(2)
      expect(wire.messages().P).toBe(1) // the user's statement only
      // Another client connection lands on the same server connection, which
      // already holds the name: 42P05, absorbed, sent again unnamed.
      expect(await syncs(() => count(second))).toBe(2)
      // The server connection loses it (what a move to another server
      // connection looks like): 26000, absorbed, sent again unnamed.
      await withClient(single.url(db.appUrl), (client) => client.query('DEALLOCATE ALL'))
      expect(await syncs(() => count(first))).toBe(2)
      // A transaction's BEGIN takes the same path.
      await withClient(single.url(db.appUrl), (client) => client.query('DEALLOCATE ALL'))
      wire.reset()
      const inTransaction = await withTenant(a, () =>
        second.transaction(async (client) => (await client.query('SELECT count(*)::int AS n FROM projects')).rows[0].n),
      )
      expect(inTransaction).toBe(2)
      // BEGIN with the named setter (26000), BEGIN again unnamed; the SELECT
      // and COMMIT carry no setter and go as simple queries.
      expect(wire.messages()).toMatchObject({ S: 2, Q: 2 })
    } finally {
      await wire.close()
    }
  })

  test("prepareStatements: a user's statement missing (26000) or already there (42P05) on the server connection is retried unnamed, never surfaced", async () => {
    const [a] = TENANTS as [string]
    const wire = await startWireCounter({ host: '127.0.0.1', port: single.port })
    try {
      // The setter unnamed, so that only the user's statement is named.
      const options = { prepareStatements: true, prepareSetter: false } as const
      const first = createTenantPool(newPool(wire.url(db.appUrl), 1), options)
      const second = createTenantPool(newPool(wire.url(db.appUrl), 1), options)
      const text = 'SELECT count(*)::int AS n FROM projects WHERE name <> $1'
      const count = (pool: TenantPool) => withTenant(a, async () => (await pool.query(text, ['none'])).rows[0].n)
      const run = async (pool: TenantPool) => {
        wire.reset()
        expect(await count(pool)).toBe(2)
        return wire.messages()
      }
      // Prepared on the one server connection, then bound only.
      expect(await run(first)).toMatchObject({ P: 2, S: 1 })
      expect(await run(first)).toMatchObject({ P: 1, S: 1 })
      // Another client lands on the server connection that holds the name:
      // 42P05 at Parse, then Close + the statement unnamed.
      expect(await run(second)).toMatchObject({ S: 2, C: 1 })
      // The server connection loses it: 26000 at Bind, retried the same way.
      await withClient(single.url(db.appUrl), (client) => client.query('DEALLOCATE ALL'))
      expect(await run(first)).toMatchObject({ S: 2, C: 1 })
      // And prepared again on the next call.
      expect(await run(first)).toMatchObject({ P: 2, S: 1 })
      expect(await run(first)).toMatchObject({ P: 1, S: 1 })
    } finally {
      await wire.close()
    }
  })
})
