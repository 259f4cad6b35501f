import { createTenantPool, type TenantPool, withTenant } from '@tenantscope/core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { useFixture } from './_fixtures.js'

// Session state that application SQL leaves on a pooled connection must not
// reach the next borrower (another tenant). The pool has one connection, so
// tenant B borrows exactly the connection tenant A used.
describe('session state left by application SQL', () => {
  const fixture = useFixture()
  const A = () => fixture.tenantA
  const B = () => fixture.tenantB
  let single: TenantPool

  beforeAll(async () => {
    await fixture.admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'project of A'), ($2, 'project of B')`, [A(), B()])
    // Sets a reported setting from inside a function: only a ParameterStatus message tells.
    await fixture.admin.query(
      `CREATE FUNCTION tz_to_tokyo() RETURNS text LANGUAGE sql AS $$ SELECT set_config('TimeZone', 'Asia/Tokyo', false) $$`,
    )
    // A session change, then a transaction-local one over it: the end of the
    // transaction takes back the local one only.
    await fixture.admin.query(
      `CREATE FUNCTION tz_to_tokyo_under_local() RETURNS text LANGUAGE sql AS $$
        SELECT set_config('TimeZone', 'Asia/Tokyo', false); SELECT set_config('TimeZone', 'UTC', true) $$`,
    )
    single = createTenantPool({ connectionString: fixture.db.appUrl, max: 1 })
  })
  afterAll(() => single?.end())

  // Tenant A runs `statements` one by one on a client from pool.connect(); returns its backend pid.
  const leaveAsA = (statements: string[]) =>
    withTenant(A(), async () => {
      const client = await single.connect()
      try {
        for (const statement of statements) {
          // A division by zero is the scripts' way to fail a statement on purpose.
          await client.query(statement).catch((error: { code?: string }) => {
            if (error.code !== '22012') throw error
          })
        }
        return (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number
      } finally {
        client.release()
      }
    })

  // What tenant B then sees through pool.query, and on which backend.
  const asB = (statement: string) =>
    withTenant(B(), async () => {
      const pid = (await single.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number
      const seen = await single.query(statement).then(
        (result) => result.rows,
        (error: { code?: string }) => error.code,
      )
      return { pid, seen }
    })

  const leaks: { kind: string; leave: string[]; check: string; clean: unknown }[] = [
    { kind: 'SET ROLE', leave: ['SET ROLE tenantscope_app'], check: 'SELECT current_user = session_user AS same', clean: [{ same: true }] },
    {
      kind: 'a session-level set_config(..., false)',
      leave: [`SELECT set_config('app.leak', 'from A', false)`],
      check: `SELECT coalesce(current_setting('app.leak', true), '') AS leak`,
      clean: [{ leak: '' }],
    },
    {
      kind: 'a session SET',
      leave: [`SET app.leak = 'from A'`],
      check: `SELECT coalesce(current_setting('app.leak', true), '') AS leak`,
      clean: [{ leak: '' }],
    },
    {
      kind: 'a session SET of a reported setting (TimeZone)',
      leave: [`SET TimeZone = 'Asia/Tokyo'`],
      check: 'SHOW TimeZone',
      clean: 'not Asia/Tokyo',
    },
    {
      kind: 'a reported setting changed inside a function (ParameterStatus)',
      leave: ['SELECT tz_to_tokyo()'],
      check: 'SHOW TimeZone',
      clean: 'not Asia/Tokyo',
    },
    {
      kind: 'a reported setting changed by a function inside a transaction (it outlives the COMMIT)',
      leave: ['BEGIN', 'SELECT tz_to_tokyo()', 'COMMIT'],
      check: 'SHOW TimeZone',
      clean: 'not Asia/Tokyo',
    },
    {
      kind: 'a session change under a transaction-local one (the COMMIT reverts to it, not to the value from before)',
      leave: ['BEGIN', `SET LOCAL TimeZone = 'Europe/Paris'`, 'SELECT tz_to_tokyo_under_local()', 'COMMIT'],
      check: 'SHOW TimeZone',
      clean: 'not Asia/Tokyo',
    },
    {
      kind: 'a reported setting changed by a function before a savepoint that an error rolls back to',
      leave: ['BEGIN', 'SELECT tz_to_tokyo()', 'SAVEPOINT s', 'SELECT 1/0', 'ROLLBACK TO SAVEPOINT s', 'COMMIT'],
      check: 'SHOW TimeZone',
      clean: 'not Asia/Tokyo',
    },
    {
      kind: 'a WITH HOLD cursor over A’s rows',
      leave: ['BEGIN', 'DECLARE leak CURSOR WITH HOLD FOR SELECT name FROM projects', 'COMMIT'],
      check: 'FETCH ALL FROM leak',
      clean: '34000',
    },
    {
      kind: 'a temporary table filled with A’s rows',
      leave: ['CREATE TEMP TABLE leak AS SELECT name FROM projects'],
      check: 'SELECT * FROM leak',
      clean: '42P01',
    },
    {
      kind: 'a temporary table (CREATE TEMP TABLE)',
      leave: ['CREATE TEMP TABLE leak2 (name text)', `INSERT INTO leak2 VALUES ('from A')`],
      check: 'SELECT * FROM leak2',
      clean: '42P01',
    },
    { kind: 'SELECT ... INTO TEMP', leave: ['SELECT name INTO TEMP leak3 FROM projects'], check: 'SELECT * FROM leak3', clean: '42P01' },
    { kind: 'LISTEN', leave: ['LISTEN tenant_events'], check: 'SELECT pg_listening_channels() AS channel', clean: [] },
    {
      kind: 'PREPARE',
      leave: ['PREPARE leak AS SELECT name FROM projects'],
      check: `SELECT name FROM pg_prepared_statements WHERE name = 'leak'`,
      clean: [],
    },
    {
      kind: 'a session advisory lock',
      leave: ['SELECT pg_advisory_lock(4242)'],
      check: `SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()`,
      clean: [],
    },
  ]

  test.each(leaks)('$kind does not reach the next borrower (its connection is destroyed)', async ({ leave, check, clean }) => {
    const pidOfA = await leaveAsA(leave)
    const { pid, seen } = await asB(check)
    expect(pid).not.toBe(pidOfA)
    if (clean === 'not Asia/Tokyo') expect(seen).not.toEqual([{ TimeZone: 'Asia/Tokyo' }])
    else expect(seen).toEqual(clean)
  })

  test('statements that leave nothing keep the connection (no reconnect per query)', async () => {
    const pidOfA = await leaveAsA([
      'SELECT name FROM projects',
      `INSERT INTO projects (name) VALUES ('kept')`,
      'BEGIN',
      `SET LOCAL statement_timeout = '5s'`,
      // Reported (ParameterStatus) here and again, reverted, at the COMMIT, as
      // PostgreSQL 18 reports the search_path that the router's schema setter sets locally.
      `SET LOCAL TimeZone = 'Asia/Tokyo'`,
      'SET TRANSACTION READ WRITE',
      'DECLARE c CURSOR FOR SELECT name FROM projects',
      'FETCH 1 FROM c',
      'COMMIT',
      `SELECT 'temperature' AS temp`,
    ])
    const { pid } = await asB('SELECT 1')
    expect(pid).toBe(pidOfA)
    await withTenant(A(), () => single.query(`SELECT name FROM projects WHERE name = 'kept'`))
    expect((await asB('SELECT 1')).pid).toBe(pidOfA)
    // Again, now that the value the COMMIT reverts to is known; and a ROLLBACK.
    expect(await leaveAsA(['BEGIN', `SET LOCAL TimeZone = 'Asia/Tokyo'`, 'COMMIT'])).toBe(pidOfA)
    expect(await leaveAsA(['BEGIN', `SET LOCAL TimeZone = 'Asia/Tokyo'`, 'ROLLBACK'])).toBe(pidOfA)
    // An error aborts the transaction: the server takes the setting back at once (ReadyForQuery 'E').
    const failing = withTenant(A(), () =>
      single.transaction(async (client) => {
        await client.query(`SET LOCAL TimeZone = 'Asia/Tokyo'`)
        await client.query('SELECT 1/0')
      }),
    )
    await expect(failing).rejects.toMatchObject({ code: '22012' })
    expect((await asB('SELECT 1')).pid).toBe(pidOfA)
    expect((await asB('SHOW TimeZone')).seen).not.toEqual([{ TimeZone: 'Asia/Tokyo' }])
  })

  test('the same holds on the pool.query path: a temp table made by pool.query is not passed on', async () => {
    const pidOfA = await withTenant(A(), async () => {
      await single.query('CREATE TEMP TABLE leak4 AS SELECT name FROM projects')
      return (await single.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number
    })
    // The temp table's connection was destroyed right after the CREATE: A's next query already had a new one.
    const { pid, seen } = await asB('SELECT * FROM leak4')
    expect(seen).toBe('42P01')
    expect(pid).toBe(pidOfA)
  })

  test("a reported setting that the pool's own 'connect' hook sets is not taken for a tenant's: the connection is kept", async () => {
    const hooked = createTenantPool({ connectionString: fixture.db.appUrl, max: 1 })
    // Not awaited, as pg's docs show it: still running when the first borrower queries.
    hooked.unscopedPool.on('connect', (client) => void client.query(`SET TimeZone = 'Asia/Tokyo'`).catch(() => undefined))
    try {
      const seen = async (tenant: string) =>
        withTenant(tenant, async () => (await hooked.query(`SELECT pg_backend_pid() AS pid, current_setting('TimeZone') AS tz`)).rows[0])
      const first = await seen(A())
      expect(first.tz).toBe('Asia/Tokyo')
      expect(await seen(B())).toEqual(first)
    } finally {
      await hooked.end()
    }
  })

  test('a multi-statement script in a query object is refused outside a transaction, as client.query(text) refuses it', async () => {
    const pg = await import('pg')
    const refused = await withTenant(A(), async () => {
      const client = await single.connect()
      try {
        return await new Promise((resolve) =>
          client.query(
            new pg.default.Query('SELECT 1; COMMIT; SELECT 2', undefined, (error?: Error) =>
              resolve((error as { code?: string } | undefined)?.code),
            ),
          ),
        )
      } finally {
        client.release()
      }
    })
    expect(refused).toBe('42601')
  })
})
