import { createTenantPool, type TenantPool, TenantScopeError, withTenant } from '@tenantscope/core'
import pg from 'pg'
import Cursor from 'pg-cursor'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { useFixture } from './_fixtures.js'

describe('TenantPool and its clients', () => {
  const fixture = useFixture()
  let pool: TenantPool
  const A = () => fixture.tenantA
  const B = () => fixture.tenantB

  beforeAll(() => {
    pool = createTenantPool({ connectionString: fixture.db.appUrl, max: 2 })
  })
  afterAll(() => pool?.end())

  test('is a pg.Pool to drivers that check instanceof, and reports the wrapped pool', async () => {
    expect(pool).toBeInstanceOf(pg.Pool)
    await withTenant(A(), () => pool.query('SELECT 1'))
    expect(pool.totalCount).toBe(pool.unscopedPool.totalCount)
    expect(pool.totalCount).toBeGreaterThan(0)
    expect(pool.idleCount).toBe(pool.unscopedPool.idleCount)
    expect(pool.waitingCount).toBe(0)
    expect(pool.options.max).toBe(2)
  })

  test('forwards the wrapped pool events', async () => {
    const seen: string[] = []
    const other = createTenantPool({ connectionString: fixture.db.appUrl, max: 1 })
    other.on('connect', () => seen.push('connect'))
    other.on('acquire', () => seen.push('acquire'))
    other.on('release', () => seen.push('release'))
    await withTenant(A(), () => other.query('SELECT 1'))
    await other.end()
    expect(seen).toEqual(['connect', 'acquire', 'release'])
  })

  test('listens on the wrapped pool for an event only once someone listens for it here, and only once', async () => {
    const raw = new pg.Pool({ connectionString: fixture.db.appUrl, max: 1 })
    const wrapper = createTenantPool(raw)
    try {
      // pg-pool emits 'acquire' and 'release' on every checkout: nobody hears them here yet.
      expect(raw.listenerCount('acquire')).toBe(0)
      expect(raw.listenerCount('release')).toBe(0)
      const seen: string[] = []
      wrapper.on('acquire', () => seen.push('acquire'))
      wrapper.once('acquire', () => seen.push('acquire once'))
      expect(raw.listenerCount('acquire')).toBe(1)
      expect(raw.listenerCount('release')).toBe(0)
      await withTenant(A(), () => wrapper.query('SELECT 1'))
      await withTenant(A(), () => wrapper.query('SELECT 1'))
      expect(seen).toEqual(['acquire', 'acquire once', 'acquire'])
    } finally {
      await wrapper.end()
    }
  })

  test('forwards the wrapped pool events also after removeAllListeners()', async () => {
    // The forwarders are added by a 'newListener' hook: removing every
    // listener must not remove the hook with them.
    const other = createTenantPool({ connectionString: fixture.db.appUrl, max: 1 })
    try {
      other.removeAllListeners()
      other.removeAllListeners('newListener')
      const seen: string[] = []
      other.on('acquire', () => seen.push('acquire'))
      await withTenant(A(), () => other.query('SELECT 1'))
      expect(seen).toEqual(['acquire'])
      // And a forwarder already added is not added twice.
      other.removeAllListeners()
      other.on('acquire', () => seen.push('acquire again'))
      await withTenant(A(), () => other.query('SELECT 1'))
      expect(seen).toEqual(['acquire', 'acquire again'])
      expect(other.unscopedPool.listenerCount('acquire')).toBe(1)
    } finally {
      await other.end()
    }
  })

  test("an idle connection's error reaches the TenantPool's error listener, also with two wrappers over one pool", async () => {
    const raw = new pg.Pool({ connectionString: fixture.db.appUrl, max: 1 })
    createTenantPool(raw) // a first wrapper that does not listen
    const other = createTenantPool(raw)
    try {
      const errors: Error[] = []
      other.on('error', (error) => errors.push(error))
      const { rows } = await withTenant(A(), () => other.query('SELECT pg_backend_pid() AS pid'))
      await fixture.admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid])
      await expect.poll(() => errors.length).toBe(1)
      // The pool replaces the dead connection.
      expect((await withTenant(A(), () => other.query('SELECT id FROM tenants'))).rows).toEqual([{ id: A() }])
    } finally {
      await other.end()
    }
  })

  test('a checked-out client is bound to its tenant: TENANT_MISMATCH from another one', async () => {
    await withTenant(A(), async () => {
      const client = await pool.connect()
      try {
        expect((await client.query('SELECT id FROM tenants')).rows).toEqual([{ id: A() }])
        await expect(withTenant(B(), () => client.query('SELECT id FROM tenants'))).rejects.toMatchObject({ code: 'TENANT_MISMATCH' })
        // Nested withTenant is fine for plain pool queries.
        expect((await withTenant(B(), () => pool.query('SELECT id FROM tenants'))).rows).toEqual([{ id: B() }])
      } finally {
        client.release()
      }
    })
  })

  test('a transaction is bound to its tenant', async () => {
    await expect(
      withTenant(A(), () => pool.transaction((client) => withTenant(B(), () => client.query('SELECT 1')))),
    ).rejects.toMatchObject({ code: 'TENANT_MISMATCH' })
  })

  test('a released client refuses further use: CLIENT_RELEASED', async () => {
    const client = await withTenant(A(), () => pool.connect())
    client.release()
    await expect(withTenant(A(), () => client.query('SELECT 1'))).rejects.toMatchObject({ code: 'CLIENT_RELEASED' })
    expect(() => client.release()).toThrow(TenantScopeError)
  })

  test('connect() outside a tenant context throws before taking a connection', async () => {
    const before = pool.unscopedPool.totalCount
    await expect(pool.connect()).rejects.toMatchObject({ code: 'TENANT_CONTEXT_MISSING' })
    expect(pool.unscopedPool.totalCount).toBe(before)
  })

  test('a client released inside an open transaction is destroyed, not passed on', async () => {
    const single = createTenantPool({ connectionString: fixture.db.appUrl, max: 1 })
    try {
      const firstPid = await withTenant(A(), async () => {
        const client = await single.connect()
        await client.query('BEGIN')
        const { rows } = await client.query('SELECT pg_backend_pid() AS pid')
        client.release() // forgot COMMIT
        return rows[0].pid
      })
      const { rows } = await single.unscopedPool.query(
        `SELECT pg_backend_pid() AS pid, current_setting('app.current_tenant', true) AS tenant, now() = statement_timestamp() AS fresh`,
      )
      expect(rows[0].pid).not.toBe(firstPid)
      expect(rows[0].tenant ?? '').toBe('')
    } finally {
      await single.end()
    }
  })

  test('a pool.query that leaves a transaction open destroys its connection', async () => {
    const single = createTenantPool({ connectionString: fixture.db.appUrl, max: 1 })
    try {
      await withTenant(A(), () => single.query('BEGIN'))
      const { rows } = await single.unscopedPool.query(`SELECT current_setting('app.current_tenant', true) AS tenant`)
      expect(rows[0].tenant ?? '').toBe('')
      expect(single.unscopedPool.totalCount).toBe(1)
    } finally {
      await single.end()
    }
  })

  test('multi-statement text is refused with MULTI_STATEMENT_QUERY, and runs inside a transaction', async () => {
    await expect(withTenant(A(), () => pool.query('SELECT 1; SELECT 2'))).rejects.toSatisfy(
      (error) => TenantScopeError.is(error, 'MULTI_STATEMENT_QUERY') && (error as Error).cause !== undefined,
    )
    const results = (await withTenant(A(), () =>
      pool.transaction((client) => client.query('SELECT id FROM tenants; SELECT count(*)::int AS n FROM tenants')),
    )) as unknown as pg.QueryResult[]
    expect(results.map((result) => result.rows)).toEqual([[{ id: A() }], [{ n: 1 }]])
  })

  test('extra settings travel in the same pipeline and end with it', async () => {
    const { rows } = await withTenant(
      A(),
      () => pool.query(`SELECT current_setting('app.user_id', true) AS user_id, current_setting('app.role', true) AS role`),
      { settings: { 'app.user_id': 'user-7', 'app.role': 'editor' } },
    )
    expect(rows).toEqual([{ user_id: 'user-7', role: 'editor' }])
    const after = await pool.unscopedPool.query(`SELECT current_setting('app.user_id', true) AS user_id`)
    expect(after.rows[0].user_id ?? '').toBe('')
    await expect(withTenant(A(), () => pool.query('SELECT 1'), { settings: { 'bad name; --': 'x' } })).rejects.toMatchObject({
      code: 'INVALID_SETTING',
    })
    await expect(withTenant(A(), () => pool.query('SELECT 1'), { settings: { 'app.current_tenant': B() } })).rejects.toMatchObject({
      code: 'INVALID_SETTING',
    })
  })

  test('database errors pass through with their SQLSTATE and without parameters in the message', async () => {
    const secret = 'secret-value-123'
    const error = await withTenant(A(), () => pool.query('SELECT $1::int', [secret])).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(pg.DatabaseError)
    expect(error).toMatchObject({ code: '22P02' })
    const refusal = await withTenant("x'; --", () => pool.query('SELECT 1')).catch((e: unknown) => e)
    expect((refusal as Error).message).not.toContain("x'; --")
  })

  test('callback forms of query and connect work as in pg', async () => {
    const rows = await withTenant(
      A(),
      () =>
        new Promise((resolve, reject) =>
          pool.query('SELECT id FROM tenants', (error, result) => (error ? reject(error) : resolve(result!.rows))),
        ),
    )
    expect(rows).toEqual([{ id: A() }])
    const viaConnect = await withTenant(
      A(),
      () =>
        new Promise((resolve, reject) =>
          pool.connect((error, client, done) => {
            if (error || !client) return reject(error)
            client.query('SELECT id FROM tenants').then((result) => {
              done!()
              resolve(result.rows)
            }, reject)
          }),
        ),
    )
    expect(viaConnect).toEqual([{ id: A() }])
  })

  test('config objects: rowMode array and custom type parsers come out as in pg', async () => {
    const result = await withTenant(A(), () =>
      pool.query({
        text: 'SELECT id, 42::int8 AS big FROM tenants',
        rowMode: 'array',
        types: { getTypeParser: (oid: number) => (oid === 20 ? (v: string) => BigInt(v) : (v: string) => v) } as never,
      }),
    )
    expect(result.rows).toEqual([[A(), 42n]])
    expect(result.fields.map((field) => field.name)).toEqual(['id', 'big'])
  })

  test('a cursor (a custom submittable) runs for the tenant', async () => {
    await fixture.admin.query(
      `INSERT INTO projects (tenant_id, name) SELECT $1::uuid, 'a' || g FROM generate_series(1, 5) g
       UNION ALL SELECT $2::uuid, 'b' || g FROM generate_series(1, 5) g`,
      [A(), B()],
    )
    const rows = await withTenant(A(), async () => {
      const client = await pool.connect()
      try {
        const cursor = client.query(new Cursor('SELECT tenant_id FROM projects'))
        const first = await cursor.read(3)
        const rest = await cursor.read(10)
        await cursor.close()
        return [...first, ...rest]
      } finally {
        client.release()
      }
    })
    expect(rows).toHaveLength(5)
    expect(new Set(rows.map((row: { tenant_id: string }) => row.tenant_id))).toEqual(new Set([A()]))
  })

  test('a malformed connection string is a typed error that does not echo it', () => {
    for (const connectionString of ['postgres://user:hunter2@[bad', 'mysql://user:hunter2@host/db', '']) {
      let caught: unknown
      try {
        createTenantPool({ connectionString })
      } catch (error) {
        caught = error
      }
      expect(TenantScopeError.is(caught, 'INVALID_CONFIG')).toBe(true)
      expect((caught as Error).message).not.toContain('hunter2')
    }
  })

  test('the maintenance role on a separate plain pool sees every tenant (the privileged path)', async () => {
    const system = new pg.Pool({ connectionString: fixture.db.maintenanceUrl, max: 1 })
    try {
      const { rows } = await system.query('SELECT count(*)::int AS n FROM tenants')
      expect(rows[0].n).toBe(2)
    } finally {
      await system.end()
    }
    // The app role cannot forge its way there with a setting.
    const forged = await withTenant(A(), () =>
      pool.query(`SELECT set_config('app.is_admin', 'true', true), count(*)::int AS n FROM tenants`),
    )
    expect(forged.rows[0].n).toBe(1)
  })
})
