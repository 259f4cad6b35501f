import { createTenantPool, type TenantPool, textTenantId, withTenant } from '@tenantscope/core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { useFixture } from './_fixtures.js'

// pool.transaction's own path: the checkout and its BEGIN are one step (the
// BEGIN carries the named setter, whose Bind is serialised once per tenant),
// statements inside go by the direct path, and the pool's own COMMIT skips
// query()'s checks. The safety properties that path must keep, on a pool of
// one connection, so that each tenant borrows exactly the connection the
// last one used.
describe('pool.transaction: the fast path keeps every safety property', () => {
  const fixture = useFixture()
  const A = () => fixture.tenantA
  const B = () => fixture.tenantB
  let single: TenantPool

  beforeAll(async () => {
    await fixture.admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'project of A'), ($2, 'project of B')`, [A(), B()])
    await fixture.admin.query(
      `CREATE FUNCTION tz_local_in_tx() RETURNS text LANGUAGE sql AS $$ SELECT set_config('TimeZone', 'Asia/Tokyo', true) $$`,
    )
    single = createTenantPool({ connectionString: fixture.db.appUrl, max: 1 })
  })
  afterAll(() => single?.end())

  const inTransaction = (tenant: string) =>
    withTenant(tenant, () =>
      single.transaction(async (client) => {
        const setting = (await client.query(`SELECT current_setting('app.current_tenant') AS tenant`)).rows[0].tenant as string
        const names = (await client.query('SELECT name FROM projects ORDER BY name')).rows.map((row) => row.name as string)
        const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number
        return { setting, names, pid }
      }),
    )

  test('tenants in turn on one connection: each BEGIN carries its own tenant', async () => {
    const seen = []
    for (const tenant of [A(), B(), A(), B(), B(), A()]) seen.push({ tenant, ...(await inTransaction(tenant)) })
    for (const { tenant, setting, names } of seen) {
      expect(setting).toBe(tenant)
      expect(names).toEqual([tenant === A() ? 'project of A' : 'project of B'])
    }
    // One connection throughout: the named setter was bound again and again on it.
    expect(new Set(seen.map((each) => each.pid)).size).toBe(1)
  })

  test('an error in the middle rolls the transaction back; the connection goes on clean for the next tenant', async () => {
    await expect(
      withTenant(A(), () =>
        single.transaction(async (client) => {
          await client.query(`INSERT INTO projects (name) VALUES ('inserted before the error')`)
          await client.query('SELECT 1/0')
        }),
      ),
    ).rejects.toMatchObject({ code: '22012' })
    const afterA = await inTransaction(A())
    expect(afterA.names).toEqual(['project of A'])
    const asB = await inTransaction(B())
    expect(asB).toMatchObject({ setting: B(), names: ['project of B'], pid: afterA.pid })
  })

  test('a failed statement caught inside fn: the COMMIT answers ROLLBACK, and nothing is committed', async () => {
    await expect(
      withTenant(A(), () =>
        single.transaction(async (client) => {
          await client.query(`INSERT INTO projects (name) VALUES ('inserted before the caught error')`)
          await client.query('SELECT 1/0').catch(() => undefined)
        }),
      ),
    ).rejects.toMatchObject({ code: 'TRANSACTION_ROLLED_BACK' })
    expect((await inTransaction(A())).names).toEqual(['project of A'])
  })

  test('the tenant cannot change mid-transaction: TENANT_MISMATCH, nothing sent, the transaction goes on as its tenant', async () => {
    const result = await withTenant(A(), () =>
      single.transaction(async (client) => {
        await client.query('SELECT 1')
        // Inside the transaction, where statements take the direct path.
        await expect(withTenant(B(), () => client.query(`INSERT INTO projects (name) VALUES ('as B')`))).rejects.toMatchObject({
          code: 'TENANT_MISMATCH',
        })
        return (await client.query(`SELECT current_setting('app.current_tenant') AS tenant`)).rows[0].tenant as string
      }),
    )
    expect(result).toBe(A())
    const rows = await fixture.admin.query(`SELECT tenant_id FROM projects WHERE name = 'as B'`)
    expect(rows.rows).toEqual([])
  })

  test('a session SET as the last statement before the pool’s own COMMIT: the connection is destroyed on release', async () => {
    const { pid } = await inTransaction(A())
    const leftBy = await withTenant(A(), () =>
      single.transaction(async (client) => {
        await client.query(`SET app.leak = 'from A'`)
        return (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number
      }),
    )
    expect(leftBy).toBe(pid)
    const asB = await inTransaction(B())
    expect(asB.pid).not.toBe(pid)
    const leak = await withTenant(B(), () => single.query(`SELECT coalesce(current_setting('app.leak', true), '') AS leak`))
    expect(leak.rows).toEqual([{ leak: '' }])
  })

  test('a setting changed transaction-locally, reverted by the pool’s COMMIT: the connection is kept', async () => {
    const before = await inTransaction(A())
    await withTenant(A(), () =>
      single.transaction(async (client) => {
        await client.query('SELECT tz_local_in_tx()')
      }),
    )
    const after = await inTransaction(B())
    expect(after.pid).toBe(before.pid)
    const zone = await withTenant(B(), () => single.query('SELECT current_setting($1) AS zone', ['TimeZone']))
    expect(zone.rows[0].zone).not.toBe('Asia/Tokyo')
  })
})

describe('pool.transaction: a BEGIN that fails', () => {
  const fixture = useFixture()
  let failing: TenantPool

  beforeAll(() => {
    // A setter the server refuses (the tenant id is no integer): the BEGIN's pipeline fails before anything runs.
    failing = createTenantPool(
      { connectionString: fixture.db.appUrl, max: 1 },
      {
        parseTenantId: textTenantId,
        setter: (settings) => ({ text: 'SELECT set_config($1, $2, true)::int', values: [settings[0]![0], settings[0]![1]] }),
      },
    )
  })
  afterAll(() => failing?.end())

  test('rejects with the server’s error, never calls fn, and hands the connection back', async () => {
    let called = false
    for (let attempt = 0; attempt < 3; attempt++) {
      await expect(
        withTenant('tenant-x', () =>
          failing.transaction(() => {
            called = true
          }),
        ),
      ).rejects.toMatchObject({ code: '22P02' })
    }
    expect(called).toBe(false)
    // Not leaked: the one connection is idle again (three attempts on a pool of one went through).
    expect(failing.stats()).toMatchObject({ totalCount: 1, idleCount: 1, waitingCount: 0 })
  })
})

describe('pool.transaction: a custom setter that hands back one object', () => {
  const fixture = useFixture()
  let reusing: TenantPool

  beforeAll(() => {
    // Allowed by the types only through a cast, but nothing enforces it: the serialised Bind cached
    // for that object must follow its values, never keep the first tenant's.
    const shared = { text: 'SELECT set_config($1, $2, true)', values: [] as string[] }
    reusing = createTenantPool(
      { connectionString: fixture.db.appUrl, max: 1 },
      {
        setter: (settings) => {
          shared.values = [settings[0]![0], settings[0]![1]]
          return shared
        },
      },
    )
  })
  afterAll(() => reusing?.end())

  test('each transaction runs for its own tenant', async () => {
    for (const tenant of [fixture.tenantA, fixture.tenantB, fixture.tenantA, fixture.tenantB]) {
      const seen = await withTenant(tenant, () =>
        reusing.transaction(async (client) => (await client.query(`SELECT current_setting('app.current_tenant') AS t`)).rows[0].t),
      )
      expect(seen).toBe(tenant)
    }
  })
})
