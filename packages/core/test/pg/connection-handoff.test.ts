import { createTenantPool, setConfigSetter, type TenantPool, type TenantSetter, withTenant } from '@tenantscope/core'
import type pg from 'pg'
import Cursor from 'pg-cursor'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { useFixture } from './_fixtures.js'

// How a connection passes from one borrower to the next, and from one
// statement to the next, when callers do not wait politely.
describe('connection handoff', () => {
  const fixture = useFixture()
  const A = () => fixture.tenantA
  const B = () => fixture.tenantB
  let single: TenantPool

  beforeAll(async () => {
    await fixture.admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'project of A'), ($2, 'project of B')`, [A(), B()])
    single = createTenantPool({ connectionString: fixture.db.appUrl, max: 1 })
  })
  afterAll(() => single?.end())

  const visibleTo = (tenant: string, pool: TenantPool = single) =>
    withTenant(tenant, async () => (await pool.query('SELECT name FROM projects ORDER BY name')).rows.map((r) => r.name))

  test('a client released while its BEGIN is still in flight is destroyed: the next tenant never runs inside it', async () => {
    await withTenant(A(), async () => {
      const client = await single.connect()
      const begin = client.query('BEGIN')
      client.release()
      await begin.catch(() => undefined)
    })
    // The next borrower uses a client: its statements skip the setter inside a transaction.
    const rows = await withTenant(B(), async () => {
      const client = await single.connect()
      try {
        return (await client.query('SELECT name FROM projects')).rows
      } finally {
        client.release()
      }
    })
    expect(rows).toEqual([{ name: 'project of B' }])
  })

  test('a client released with an open cursor is destroyed, and the pool goes on', async () => {
    await withTenant(A(), async () => {
      const client = await single.connect()
      const cursor = client.query(new Cursor('SELECT name FROM projects'))
      await cursor.read(1)
      client.release()
    })
    expect(await visibleTo(B())).toEqual(['project of B'])
  })

  test('statements queued behind a COMMIT run with the tenant (decided when sent, not when queued)', async () => {
    const rows = await withTenant(A(), async () => {
      const client = await single.connect()
      try {
        await client.query('BEGIN')
        const commit = client.query('COMMIT')
        const after = client.query('SELECT name FROM projects')
        await commit
        return (await after).rows
      } finally {
        client.release()
      }
    })
    expect(rows).toEqual([{ name: 'project of A' }])
  })

  test('COMMIT AND CHAIN: the chained transaction runs for the tenant too', async () => {
    const rows = await withTenant(A(), () =>
      single.transaction(async (client) => {
        await client.query('COMMIT AND CHAIN')
        return (await client.query('SELECT name FROM projects')).rows
      }),
    )
    expect(rows).toEqual([{ name: 'project of A' }])
  })

  test('a comment before BEGIN ISOLATION LEVEL does not hide the modes', async () => {
    const level = await withTenant(A(), async () => {
      const client = await single.connect()
      try {
        await client.query('/* from an ORM */ BEGIN ISOLATION LEVEL SERIALIZABLE')
        const { rows } = await client.query(`SELECT current_setting('transaction_isolation') AS level, count(*)::int AS n FROM projects`)
        await client.query('COMMIT')
        return rows[0]
      } finally {
        client.release()
      }
    })
    expect(level).toEqual({ level: 'serializable', n: 1 })
  })

  test('on a client, BEGIN then SET TRANSACTION works: the first other statement carries the setter', async () => {
    const seen = await withTenant(A(), async () => {
      const client = await single.connect()
      try {
        await client.query('BEGIN')
        await client.query('SET TRANSACTION ISOLATION LEVEL SERIALIZABLE')
        const { rows } = await client.query(
          `SELECT current_setting('transaction_isolation') AS level, array_agg(name) AS names FROM projects`,
        )
        const second = await client.query('SELECT count(*)::int AS n FROM projects')
        await client.query('COMMIT')
        return { ...rows[0], n: second.rows[0].n }
      } finally {
        client.release()
      }
    })
    expect(seen).toEqual({ level: 'serializable', names: ['project of A'], n: 1 })
  })

  test('an empty transaction (BEGIN; COMMIT) leaves nothing pending for the next one', async () => {
    const rows = await withTenant(A(), async () => {
      const client = await single.connect()
      try {
        await client.query('BEGIN')
        await client.query('COMMIT')
        await client.query('BEGIN')
        const { rows } = await client.query('SELECT name FROM projects')
        await client.query('COMMIT')
        return rows
      } finally {
        client.release()
      }
    })
    expect(rows).toEqual([{ name: 'project of A' }])
  })

  test('a connection killed during a query is not handed on, and nothing crashes', async () => {
    const pool = createTenantPool({ connectionString: fixture.db.appUrl, max: 1 })
    try {
      // Settled into a value at once: the kill's error may arrive while this
      // test still awaits the admin's query, and must not be unhandled then.
      const slow = withTenant(A(), () => pool.query('SELECT pg_sleep(5)')).then(
        () => undefined,
        (error: unknown) => error,
      )
      await expect
        .poll(async () => (await fixture.admin.query(`SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(5)'`)).rows.length)
        .toBe(1)
      await fixture.admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(5)'`)
      expect(await slow).toMatchObject({ code: '57P01' })
      expect(await visibleTo(B(), pool)).toEqual(['project of B'])
    } finally {
      await pool.end()
    }
  })

  test('a named statement whose setter failed is parsed again next time, not skipped', async () => {
    let failNext = true
    const flaky: TenantSetter = (settings) =>
      failNext ? { text: 'SELECT no_such_function($1, $2)', values: settings.flat() } : setConfigSetter(settings)
    const pool = createTenantPool({ connectionString: fixture.db.appUrl, max: 1 }, { setter: flaky })
    try {
      await withTenant(A(), async () => {
        const client = await pool.connect()
        try {
          await expect(client.query({ name: 'names', text: 'SELECT name FROM projects' })).rejects.toMatchObject({ code: '42883' })
          failNext = false
          // A new context of the same tenant: the setter is built again (it is cached per context).
          const again = await withTenant(A(), () => client.query({ name: 'names', text: 'SELECT name FROM projects' }))
          expect(again.rows).toEqual([{ name: 'project of A' }])
        } finally {
          client.release()
        }
      })
      expect(await visibleTo(B(), pool)).toEqual(['project of B'])
    } finally {
      await pool.end()
    }
  })

  test('a per-query query_timeout is honoured', async () => {
    await expect(withTenant(A(), () => single.query({ text: 'SELECT pg_sleep(2)', query_timeout: 100 } as pg.QueryConfig))).rejects.toThrow(
      /timeout/i,
    )
    expect(await visibleTo(A())).toEqual(['project of A'])
  })

  test('an extra setting that names the tenant setting in another case is refused', async () => {
    const attempts: Record<string, string>[] = [{ 'App.Current_Tenant': B() }, { 'app.user_id': 'u', 'APP.USER_ID': 'v' }]
    for (const settings of attempts) {
      await expect(withTenant(A(), () => single.query('SELECT 1'), { settings })).rejects.toMatchObject({ code: 'INVALID_SETTING' })
    }
  })

  test('a TenantPool cannot be wrapped again', () => {
    expect(() => createTenantPool(single)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
  })
})
