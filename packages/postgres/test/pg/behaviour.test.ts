import { withTenant } from '@tenantscope/core'
import { createTenantSql } from '@tenantscope/postgres'
import { APP_ROLE, withClient } from '@tenantscope/test-harness'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { useFixture } from './_fixture.js'

describe('createTenantSql behaviour', () => {
  const fixture = useFixture()
  let raw: postgres.Sql
  let sql: postgres.Sql
  const probe = async () => (await raw`SELECT pg_backend_pid() AS pid, current_setting('app.current_tenant', true) AS tenant`)[0]!

  beforeAll(async () => {
    await withClient(fixture.db.adminUrl, async (admin) => {
      // Not a tenant table: only here to make COMMIT itself fail.
      await admin.query(`
        CREATE TABLE parents (id int PRIMARY KEY);
        CREATE TABLE children (id int, parent_id int REFERENCES parents DEFERRABLE INITIALLY DEFERRED);
        GRANT SELECT, INSERT ON parents, children TO ${APP_ROLE.name}`)
    })
    raw = postgres(fixture.db.appUrl, { max: 1, onnotice: () => undefined })
    sql = createTenantSql(raw)
  })
  afterAll(async () => {
    await raw?.end({ timeout: 5 })
  })

  test("the caller's promise settles after COMMIT: a failing COMMIT rejects it and nothing is written", async () => {
    await expect(withTenant(fixture.tenantA, () => sql`INSERT INTO children VALUES (1, 42)`)).rejects.toMatchObject({ code: '23503' })
    expect(await raw`SELECT count(*)::int AS n FROM children`).toEqual([{ n: 0 }])
    // The connection went back to the pool clean.
    expect((await probe()).tenant ?? '').toBe('')
  })

  test('a setter that fails rejects with its error and the statement never runs', async () => {
    const failing = createTenantSql(raw, { setter: () => ({ text: 'SELECT 1 / 0', values: [] }) })
    await expect(withTenant(fixture.tenantA, () => failing`INSERT INTO parents VALUES (7)`)).rejects.toMatchObject({ code: '22012' })
    await expect(withTenant(fixture.tenantA, () => failing.begin((tx) => tx`INSERT INTO parents VALUES (8)`))).rejects.toMatchObject({
      code: '22012',
    })
    expect(await raw`SELECT count(*)::int AS n FROM parents`).toEqual([{ n: 0 }])
  })

  test('results keep postgres.js shapes: .values(), fragments, count', async () => {
    const values = await withTenant(fixture.tenantA, () => sql`SELECT tenant_id, name FROM projects`.values())
    expect(values).toEqual([[fixture.tenantA, 'a1']])
    const inserted = await withTenant(fixture.tenantB, () => sql`INSERT INTO projects ${sql({ name: 'b2' }, 'name')} RETURNING tenant_id`)
    expect([...inserted]).toEqual([{ tenant_id: fixture.tenantB }])
    expect(inserted.count).toBe(1)
  })

  test('a multi-statement simple query runs every statement for the tenant', async () => {
    const results = await withTenant(fixture.tenantA, () =>
      sql.unsafe(`SELECT count(*)::int AS n FROM projects; SELECT current_setting('app.current_tenant') AS tenant`),
    )
    expect((results as unknown as postgres.RowList<postgres.Row[]>[]).map((result) => [...result])).toEqual([
      [{ n: 1 }],
      [{ tenant: fixture.tenantA }],
    ])
  })

  // The id goes as a literal only when it needs no escaping (tenant-opening.ts):
  // the same with standard_conforming_strings off, where a backslash in a
  // plain literal is an escape. Any other id is bound, as in sql.begin.
  test('the tenant reads back exactly, literal or bound, with standard_conforming_strings off too', async () => {
    const offRaw = postgres(fixture.db.appUrl, { max: 1, onnotice: () => undefined, connection: { standard_conforming_strings: 'off' } })
    try {
      const slugs = createTenantSql(offRaw, { parseTenantId: (id) => id })
      expect(await offRaw`SELECT current_setting('standard_conforming_strings') AS scs`).toEqual([{ scs: 'off' }])
      for (const id of [fixture.tenantA, 'tenant-1.eu:x@y+z_', "x\\'; SELECT 1; --", '\\', "é'", 'a b', 'line\nbreak']) {
        const read = () => withTenant(id, () => slugs`SELECT current_setting('app.current_tenant') AS tenant`)
        expect(await read()).toEqual([{ tenant: id }])
        expect(await withTenant(id, () => slugs.unsafe(`SELECT current_setting('app.current_tenant') AS tenant`))).toEqual([{ tenant: id }])
      }
      expect((await offRaw`SELECT current_setting('app.current_tenant', true) AS tenant`)[0]!.tenant ?? '').toBe('')
    } finally {
      await offRaw.end({ timeout: 5 })
    }
  })

  test('a setting whose parts are keywords is set as named', async () => {
    const keyworded = createTenantSql(raw, { setting: 'user.select' })
    expect(await withTenant(fixture.tenantA, () => keyworded`SELECT current_setting('user.select') AS tenant`)).toEqual([
      { tenant: fixture.tenantA },
    ])
  })

  test('a setting part over 63 bytes is refused (SET LOCAL would cut it, set_config would not)', () => {
    expect(() => createTenantSql(raw, { setting: `app.${'x'.repeat(64)}` })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
    expect(() => createTenantSql(raw, { setting: `app.${'x'.repeat(63)}` })).not.toThrow()
  })

  test("withTenant's extra settings are sent with the tenant, transaction-local, in statements and sql.begin", async () => {
    const read = "SELECT current_setting('app.current_tenant', true) AS tenant, current_setting('app.user_id', true) AS user_id"
    const options = { settings: { 'app.user_id': "u'1\\x" } }
    expect(await withTenant(fixture.tenantA, () => sql.unsafe(read), options)).toEqual([{ tenant: fixture.tenantA, user_id: "u'1\\x" }])
    expect(await withTenant(fixture.tenantA, () => sql.begin((tx) => tx.unsafe(read)), options)).toEqual([
      { tenant: fixture.tenantA, user_id: "u'1\\x" },
    ])
    // Transaction-local: the connection keeps neither after the statement.
    expect(await raw.unsafe(read)).toEqual([{ tenant: '', user_id: '' }])
    // Without settings, a context on the same connection sees none.
    expect(await withTenant(fixture.tenantB, () => sql.unsafe(read))).toEqual([{ tenant: fixture.tenantB, user_id: '' }])
    await expect(
      withTenant(fixture.tenantA, () => sql.unsafe(read), { settings: { 'APP.current_tenant': fixture.tenantB } }),
    ).rejects.toMatchObject({
      code: 'INVALID_SETTING',
    })
  })

  test('sql.begin: SET TRANSACTION may come first (the setter waits behind it); a savepoint first gets the setter', async () => {
    const [settings] = await withTenant(fixture.tenantA, () =>
      sql.begin(async (tx) => {
        await tx`SET TRANSACTION ISOLATION LEVEL SERIALIZABLE`
        return tx`SELECT current_setting('transaction_isolation') AS isolation, current_setting('app.current_tenant') AS tenant`
      }),
    )
    expect(settings).toEqual({ isolation: 'serializable', tenant: fixture.tenantA })
    const inSavepoint = await withTenant(fixture.tenantB, () =>
      sql.begin((tx) => tx.savepoint((sp) => sp`SELECT name FROM projects ORDER BY name`)),
    )
    expect(inSavepoint.map((row) => row.name)).toEqual(expect.arrayContaining(['b1']))
    expect(inSavepoint.every((row) => String(row.name).startsWith('b'))).toBe(true)
  })

  test('a cursor needs a transaction: refused on its own, scoped inside sql.begin', async () => {
    await expect(
      withTenant(fixture.tenantA, async () => {
        for await (const rows of sql`SELECT name FROM projects`.cursor(1)) void rows
      }),
    ).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    const seen: string[] = []
    await withTenant(fixture.tenantA, () =>
      sql.begin(async (tx) => {
        for await (const rows of tx`SELECT name FROM projects`.cursor(1)) seen.push(...rows.map((row) => row.name as string))
      }),
    )
    expect(seen).toEqual(['a1'])
  })

  // postgres.js 3.4 hands a FATAL that arrived during a query (here 57P01)
  // to the first thing sent on the reconnected connection; a raw query then
  // fails although the new connection is fine. The scoped path retries
  // reserve() or BEGIN once in that case (nothing of the caller's was sent).
  async function killDuringStatement(): Promise<number> {
    const { pid } = await probe()
    const outcome = withTenant(fixture.tenantA, () => sql`SELECT pg_sleep(30)`).then(
      () => 'resolved',
      (error: { code?: string }) => error.code,
    )
    await withClient(fixture.db.adminUrl, async (admin) => {
      await expect
        .poll(
          async () =>
            (await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_sleep%'`, [pid])).rows[0]
              .n,
        )
        .toBe(1)
      await admin.query('SELECT pg_terminate_backend($1)', [pid])
    })
    expect(await outcome).not.toBe('resolved')
    return pid
  }

  test('a connection killed during a scoped statement: the statement rejects, the next one runs on a new connection without a tenant', async () => {
    const pid = await killDuringStatement()
    expect(await withTenant(fixture.tenantB, () => sql`SELECT tenant_id FROM projects`)).toEqual(
      expect.arrayContaining([{ tenant_id: fixture.tenantB }]),
    )
    const after = await probe()
    expect(after.pid).not.toBe(pid)
    expect(after.tenant ?? '').toBe('')
  })

  test('after a killed statement, sql.begin runs first on the new connection', async () => {
    await killDuringStatement()
    const rows = await withTenant(fixture.tenantB, () => sql.begin((tx) => tx`SELECT current_setting('app.current_tenant') AS tenant`))
    expect([...rows]).toEqual([{ tenant: fixture.tenantB }])
  })
})
