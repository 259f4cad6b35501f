import { createTenantPool, type TenantPool, withTenant } from '@tenantscope/core'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { useFixture } from './_fixtures.js'

// Statements inside a transaction that already has the setting take a direct
// path (in-transaction.ts): nothing is added to them. These tests hold the
// checks that path must keep: session state is still detected, and a
// statement that needs the setter (AND CHAIN) still gets it. The pool has one
// connection, so tenant B borrows exactly the connection tenant A used.
describe('statements inside a transaction (the direct path)', () => {
  const fixture = useFixture()
  const A = () => fixture.tenantA
  const B = () => fixture.tenantB
  let single: TenantPool

  beforeAll(async () => {
    await fixture.admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'project of A'), ($2, 'project of B')`, [A(), B()])
    await fixture.admin.query(
      `CREATE FUNCTION tz_to_tokyo_in_tx() RETURNS text LANGUAGE sql AS $$ SELECT set_config('TimeZone', 'Asia/Tokyo', false) $$`,
    )
    single = createTenantPool({ connectionString: fixture.db.appUrl, max: 1 })
  })
  afterAll(() => single?.end())

  const pidAsB = () => withTenant(B(), async () => (await single.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number)

  test.each([
    { kind: 'a session SET', leave: `SET app.leak = 'from A'` },
    { kind: 'a session-level set_config', leave: `SELECT set_config('app.leak', 'from A', false)` },
    { kind: 'a reported setting changed inside a function (ParameterStatus)', leave: 'SELECT tz_to_tokyo_in_tx()' },
  ])('$kind inside pool.transaction: the connection is destroyed on release', async ({ leave }) => {
    const pid = await withTenant(A(), () =>
      single.transaction(async (client) => {
        // The transaction has the setting here: the statement goes by the direct path.
        await client.query(leave)
        return (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number
      }),
    )
    expect(await pidAsB()).not.toBe(pid)
    const seen = await withTenant(B(), () => single.query(`SELECT coalesce(current_setting('app.leak', true), '') AS leak`))
    expect(seen.rows).toEqual([{ leak: '' }])
  })

  test('a plain statement inside pool.transaction runs for the tenant, and the connection is kept', async () => {
    const { pid, names } = await withTenant(A(), () =>
      single.transaction(async (client) => {
        const names = (await client.query('SELECT name FROM projects ORDER BY name')).rows.map((row) => row.name)
        return { pid: (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number, names }
      }),
    )
    expect(names).toEqual(['project of A'])
    expect(await pidAsB()).toBe(pid)
  })

  test('COMMIT AND CHAIN inside pool.transaction still carries the setter into the chained transaction', async () => {
    const names = await withTenant(A(), () =>
      single.transaction(async (client) => {
        await client.query('COMMIT AND CHAIN')
        return (await client.query('SELECT name FROM projects ORDER BY name')).rows.map((row) => row.name)
      }),
    )
    expect(names).toEqual(['project of A'])
  })

  test('a per-query query_timeout is honoured on the direct path', async () => {
    // Without the timeout the statement would simply succeed after its second.
    await expect(
      withTenant(A(), () =>
        single.transaction(async (client) => {
          // The transaction has the setting: the statement goes to pg as its own Query.
          await client.query({ text: 'SELECT pg_sleep(1)', query_timeout: 100 } as pg.QueryConfig)
        }),
      ),
    ).rejects.toThrow(/timeout/i)
  })

  test('statements queued without awaiting (not the direct path) run for the tenant, in order', async () => {
    const results = await withTenant(A(), () =>
      single.transaction(async (client) => {
        const first = client.query(`SELECT current_setting('app.current_tenant') AS tenant`)
        const second = client.query('SELECT name FROM projects ORDER BY name')
        return Promise.all([first, second])
      }),
    )
    expect(results[0].rows).toEqual([{ tenant: A() }])
    expect(results[1].rows.map((row) => row.name)).toEqual(['project of A'])
  })
})
