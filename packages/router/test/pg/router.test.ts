import { randomUUID } from 'node:crypto'
import { TenantScopeError, withTenant } from '@tenantscope/core'
import { tenantDrizzle } from '@tenantscope/drizzle'
import { createTenantDirectory, createTenantRouter, type TenantEntry, type TenantRouter } from '@tenantscope/router'
import { createTestDatabase, type TestDatabase } from '@tenantscope/test-harness'
import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { dropRoles, insertTenants, makeSchemaTenant, rolePrefix } from './_fixtures.js'

// One router over a fleet of every kind: shared-schema tenants (one of them
// read-only, one moving), two schema tenants, a database tenant, and a
// tenant pinned to another region's database.
describe('createTenantRouter: one withTenant for every strategy', () => {
  const prefix = rolePrefix()
  const gate = `${prefix}gate`
  const [P, P2, RO, MOVING, S1, S2, D, EU, UNKNOWN] = Array.from({ length: 9 }, () => randomUUID()) as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ]
  let primary: TestDatabase
  let tenantDb: TestDatabase
  let euDb: TestDatabase
  let admin: pg.Pool
  let router: TenantRouter
  const entries = new Map<string, TenantEntry>()
  const directory = createTenantDirectory((id) => entries.get(id))

  beforeAll(async () => {
    ;[primary, tenantDb, euDb] = await Promise.all([createTestDatabase(), createTestDatabase(), createTestDatabase()])
    admin = new pg.Pool({ connectionString: primary.adminUrl, max: 2 })
    await insertTenants(primary.adminUrl, [P, P2, RO, MOVING])
    await insertTenants(tenantDb.adminUrl, [D])
    await insertTenants(euDb.adminUrl, [EU])
    await makeSchemaTenant(primary.adminUrl, gate, 'tenant_s1', `${prefix}s1`)
    await makeSchemaTenant(primary.adminUrl, gate, 'tenant_s2', `${prefix}s2`)
    const put = (entry: TenantEntry) => entries.set(entry.tenantId, entry)
    put({ tenantId: P, strategy: 'pool', state: 'active' })
    put({ tenantId: P2, strategy: 'pool', state: 'active' })
    put({ tenantId: RO, strategy: 'pool', state: 'read_only' })
    put({ tenantId: MOVING, strategy: 'pool', state: 'moving' })
    put({ tenantId: S1, strategy: 'schema', schema: 'tenant_s1', role: `${prefix}s1`, state: 'active' })
    put({ tenantId: S2, strategy: 'schema', schema: 'tenant_s2', role: `${prefix}s2`, state: 'active' })
    put({ tenantId: D, strategy: 'database', database: 'd1', state: 'active' })
    put({ tenantId: EU, strategy: 'pool', region: 'eu', state: 'active' })
    router = createTenantRouter({
      directory,
      // One connection: what one statement leaves behind, the next one would see.
      pool: { connectionString: primary.appUrl, max: 1 },
      regions: { eu: { connectionString: euDb.appUrl, max: 1 } },
      databases: { connectionFor: (entry) => (entry.database === 'd1' ? tenantDb.appUrl : Promise.reject(new Error('no such database'))) },
    })
  })
  afterAll(async () => {
    await router?.end()
    await admin?.end()
    await Promise.all([primary?.drop(), tenantDb?.drop(), euDb?.drop()])
    await dropRoles(primary.adminUrl, prefix)
  })

  const where = (tenant: string) =>
    withTenant(
      tenant,
      async () => (await router.query(`SELECT current_database() AS db, current_user AS role`)).rows[0] as { db: string; role: string },
    )

  test('each tenant is served where the directory says it lives', async () => {
    expect(await where(P)).toEqual({ db: primary.name, role: 'tenantscope_test_app' })
    expect(await where(S1)).toEqual({ db: primary.name, role: `${prefix}s1` })
    expect(await where(D)).toEqual({ db: tenantDb.name, role: 'tenantscope_test_app' })
    expect(await where(EU)).toEqual({ db: euDb.name, role: 'tenantscope_test_app' })
  })

  test('pool tenants keep RLS isolation in the shared schema', async () => {
    await withTenant(P, () => router.query(`INSERT INTO projects (name) VALUES ('p')`))
    await withTenant(P2, () => router.query(`INSERT INTO projects (name) VALUES ('p2')`))
    const seen = await withTenant(P, async () => (await router.query(`SELECT tenant_id, name FROM projects`)).rows)
    expect(seen).toEqual([{ tenant_id: P, name: 'p' }])
  })

  test('schema tenants resolve unqualified names to their own schema', async () => {
    await withTenant(S1, () => router.query(`INSERT INTO projects (name) VALUES ($1)`, ['s1']))
    await withTenant(S2, () => router.query(`INSERT INTO projects (name) VALUES ($1)`, ['s2']))
    expect((await withTenant(S1, () => router.query(`SELECT name FROM projects`))).rows).toEqual([{ name: 's1' }])
    expect((await withTenant(S2, () => router.query(`SELECT name FROM projects`))).rows).toEqual([{ name: 's2' }])
  })

  test('the attack: a schema tenant naming another tenant schema is refused by privileges (42501)', async () => {
    await expect(withTenant(S1, () => router.query(`SELECT * FROM tenant_s2.projects`))).rejects.toMatchObject({ code: '42501' })
    await expect(withTenant(S1, () => router.query(`INSERT INTO tenant_s2.projects (name) VALUES ('x')`))).rejects.toMatchObject({
      code: '42501',
    })
    // Nor the shared tables, which the pool tenants' RLS protects.
    await expect(withTenant(S1, () => router.query(`SELECT * FROM public.projects`))).rejects.toMatchObject({ code: '42501' })
    await expect(withTenant(S1, () => router.transaction((tx) => tx.query(`SELECT * FROM tenant_s2.projects`)))).rejects.toMatchObject({
      code: '42501',
    })
  })

  test('a schema tenant transaction leaves no role or search_path on the connection', async () => {
    const inside = await withTenant(S1, () =>
      router.transaction(async (tx) => {
        await tx.query(`INSERT INTO projects (name) VALUES ('in a transaction')`)
        return (await tx.query(`SELECT current_user AS role, current_setting('search_path') AS path`)).rows[0]
      }),
    )
    expect(inside).toEqual({ role: `${prefix}s1`, path: '"tenant_s1"' })
    // The primary pool has one connection: the one the transaction used.
    const after = await router.unscopedPool.query(`SELECT current_user AS role, current_setting('search_path') AS path`)
    expect(after.rows[0]).toEqual({ role: 'tenantscope_test_app', path: '"$user", public' })
    // And a pool tenant on that same connection runs as the app role on the shared schema.
    expect(await where(P)).toEqual({ db: primary.name, role: 'tenantscope_test_app' })
  })

  test('router.connect gives a client bound to the tenant, routed', async () => {
    const rows = await withTenant(D, async () => {
      const client = await router.connect()
      try {
        await client.query(`INSERT INTO projects (name) VALUES ('d')`)
        return (await client.query(`SELECT tenant_id, name, current_database() AS db FROM projects`)).rows
      } finally {
        client.release()
      }
    })
    expect(rows).toEqual([{ tenant_id: D, name: 'd', db: tenantDb.name }])
  })

  test('the attack: a region tenant only reaches its region; rows land there', async () => {
    await withTenant(EU, () => router.query(`INSERT INTO projects (name) VALUES ('eu')`))
    const inPrimary = await admin.query(`SELECT count(*)::int AS n FROM projects WHERE tenant_id = $1`, [EU])
    expect(inPrimary.rows[0].n).toBe(0)
    const eu = new pg.Pool({ connectionString: euDb.adminUrl, max: 1 })
    try {
      expect((await eu.query(`SELECT name FROM projects WHERE tenant_id = $1`, [EU])).rows).toEqual([{ name: 'eu' }])
    } finally {
      await eu.end()
    }
  })

  test('the attack: an unknown tenant is refused with TENANT_UNKNOWN, never served by a fallback pool', async () => {
    const query = withTenant(UNKNOWN, () => router.query(`SELECT 1`))
    await expect(query).rejects.toSatisfy((error) => TenantScopeError.is(error, 'TENANT_UNKNOWN'))
    await expect(withTenant(UNKNOWN, () => router.transaction(() => 1))).rejects.toMatchObject({ code: 'TENANT_UNKNOWN' })
    await expect(withTenant(UNKNOWN, () => router.connect())).rejects.toMatchObject({ code: 'TENANT_UNKNOWN' })
    await expect(router.query(`SELECT 1`)).rejects.toMatchObject({ code: 'TENANT_CONTEXT_MISSING' })
  })

  test('the attack: a read-only tenant reads but its writes are refused with TENANT_READ_ONLY', async () => {
    await admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'before')`, [RO])
    expect((await withTenant(RO, () => router.query(`SELECT name FROM projects`))).rows).toEqual([{ name: 'before' }])
    await expect(withTenant(RO, () => router.query(`INSERT INTO projects (name) VALUES ('x')`))).rejects.toMatchObject({
      code: 'TENANT_READ_ONLY',
      cause: { code: '25006' },
    })
    await expect(withTenant(RO, () => router.transaction((tx) => tx.query(`UPDATE projects SET name = 'y'`)))).rejects.toMatchObject({
      code: 'TENANT_READ_ONLY',
    })
    expect((await admin.query(`SELECT name FROM projects WHERE tenant_id = $1`, [RO])).rows).toEqual([{ name: 'before' }])
    // The next tenant on the same connection writes normally.
    await withTenant(P2, () => router.query(`INSERT INTO projects (name) VALUES ('after read-only')`))
  })

  describe('a read-only tenant writing through router.connect() (and so Drizzle transactions)', () => {
    const readOnly = (cause: string) => (error: unknown) =>
      TenantScopeError.is(TenantScopeError.from(error), 'TENANT_READ_ONLY') &&
      (TenantScopeError.from(error)?.cause as { code?: unknown } | undefined)?.code === cause
    const names = async (tenant: string) =>
      (await admin.query(`SELECT name FROM projects WHERE tenant_id = $1 ORDER BY name`, [tenant])).rows.map((row) => row.name)
    const onClient = <T>(tenant: string, fn: (client: pg.PoolClient) => Promise<T>) =>
      withTenant(tenant, async () => {
        const client = await router.connect()
        try {
          return await fn(client)
        } finally {
          client.release()
        }
      })

    test('promise form: the write is refused with TENANT_READ_ONLY (cause 25006), nothing written, reads still work', async () => {
      const before = await names(RO)
      await expect(onClient(RO, (client) => client.query(`INSERT INTO projects (name) VALUES ('via connect')`))).rejects.toSatisfy(
        readOnly('25006'),
      )
      await expect(
        onClient(RO, async (client) => {
          await client.query('BEGIN')
          try {
            await client.query(`UPDATE projects SET name = 'changed'`)
          } finally {
            await client.query('ROLLBACK')
          }
        }),
      ).rejects.toSatisfy(readOnly('25006'))
      expect(await names(RO)).toEqual(before)
      const read = await onClient(RO, (client) => client.query(`SELECT name FROM projects ORDER BY name`))
      expect(read.rows.map((row) => row.name)).toEqual(before)
    })

    test('callback form: the callback gets TENANT_READ_ONLY (cause 25006), nothing written', async () => {
      const before = await names(RO)
      const viaCallback = (tenant: string, text: string) =>
        onClient(
          tenant,
          (client) =>
            new Promise<{ error: unknown; result: unknown }>((resolve) =>
              client.query(text, (error: unknown, result: unknown) => resolve({ error, result })),
            ),
        )
      const { error } = await viaCallback(RO, `INSERT INTO projects (name) VALUES ('via callback')`)
      expect(readOnly('25006')(error)).toBe(true)
      expect(await names(RO)).toEqual(before)
      const { error: readError, result } = await viaCallback(RO, `SELECT count(*)::int AS n FROM projects`)
      expect(readError).toBeNull()
      expect((result as pg.QueryResult).rows).toEqual([{ n: before.length }])
    })

    test('tenantDrizzle(drizzle(router)).transaction: the write is refused with TENANT_READ_ONLY (cause 25006), nothing written', async () => {
      const db = tenantDrizzle(drizzle(router))
      const before = await names(RO)
      await expect(
        withTenant(RO, () => db.transaction(async (tx) => tx.execute(sql`INSERT INTO projects (name) VALUES ('via drizzle')`))),
      ).rejects.toSatisfy(readOnly('25006'))
      expect(await names(RO)).toEqual(before)
      const read = await withTenant(RO, () =>
        db.transaction(async (tx) => (await tx.execute(sql`SELECT count(*)::int AS n FROM projects`)).rows),
      )
      expect(read).toEqual([{ n: before.length }])
    })

    test("an active tenant writes through connect; other errors, and an active tenant's own 25006, pass through unchanged", async () => {
      const name = `active via connect ${randomUUID()}`
      await onClient(P2, (client) => client.query(`INSERT INTO projects (name) VALUES ($1)`, [name]))
      expect(await names(P2)).toContain(name)
      // A read-only tenant's statement failing for another reason: pg's error as is.
      const divide = onClient(RO, (client) => client.query(`SELECT 1 / 0`))
      await expect(divide).rejects.toBeInstanceOf(pg.DatabaseError)
      await expect(divide).rejects.toMatchObject({ code: '22012' })
      // An active tenant that made its own transaction read-only: the database's 25006, not the tenant's state.
      const own = onClient(P2, async (client) => {
        await client.query('BEGIN READ ONLY')
        try {
          await client.query(`INSERT INTO projects (name) VALUES ('own read-only')`)
        } finally {
          await client.query('ROLLBACK')
        }
      })
      await expect(own).rejects.toBeInstanceOf(pg.DatabaseError)
      await expect(own).rejects.toMatchObject({ code: '25006' })
      expect(await names(P2)).not.toContain('own read-only')
    })
  })

  test('the attack: settings the router decides (role, search_path, read-only) cannot be passed through withTenant', async () => {
    const settings = (extra: Record<string, string>) => ({ settings: extra })
    // A pool tenant taking a schema tenant's role, then naming its schema.
    await expect(
      withTenant(P, () => router.query(`SELECT * FROM tenant_s1.projects`), settings({ role: `${prefix}s1` })),
    ).rejects.toMatchObject({ code: 'INVALID_SETTING' })
    await expect(withTenant(S1, () => router.query(`SELECT 1`), settings({ search_path: 'tenant_s2' }))).rejects.toMatchObject({
      code: 'INVALID_SETTING',
    })
    await expect(withTenant(RO, () => router.query(`SELECT 1`), settings({ Transaction_Read_Only: 'off' }))).rejects.toMatchObject({
      code: 'INVALID_SETTING',
    })
    // Other settings still ride along.
    const { rows } = await withTenant(
      S1,
      () => router.query(`SELECT current_setting('app.user_id') AS u`),
      settings({ 'app.user_id': 'u1' }),
    )
    expect(rows).toEqual([{ u: 'u1' }])
  })

  test('a moving tenant is read, and its writes are refused with TENANT_UNAVAILABLE (retryable) by the database', async () => {
    expect((await withTenant(MOVING, () => router.query(`SELECT 1 AS one`))).rows).toEqual([{ one: 1 }])
    await expect(
      withTenant(MOVING, () => router.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'x')`, [MOVING])),
    ).rejects.toMatchObject({ code: 'TENANT_UNAVAILABLE', cause: { code: '25006' } })
  })

  test('tenantDrizzle(drizzle(router)) works unchanged for every strategy', async () => {
    const db = tenantDrizzle(drizzle(router))
    const whereAmI = sql`SELECT current_database() AS db, current_user AS role`
    for (const [tenant, db_, role] of [
      [P, () => primary.name, 'tenantscope_test_app'],
      [S2, () => primary.name, `${prefix}s2`],
      [D, () => tenantDb.name, 'tenantscope_test_app'],
    ] as const) {
      const rows = await withTenant(tenant, async () => (await db.execute(whereAmI)).rows)
      expect(rows).toEqual([{ db: db_(), role }])
      const inTx = await withTenant(tenant, () => db.transaction(async (tx) => (await tx.execute(whereAmI)).rows))
      expect(inTx).toEqual([{ db: db_(), role }])
    }
    await expect(withTenant(S2, () => db.execute(sql`SELECT * FROM tenant_s1.projects`))).rejects.toMatchObject({
      cause: { code: '42501' },
    })
  })

  test('a changed entry is seen once the application invalidates it', async () => {
    entries.set(P2, { tenantId: P2, strategy: 'pool', state: 'suspended' })
    // Cached: still served.
    await withTenant(P2, () => router.query(`SELECT 1`))
    directory.invalidate(P2)
    await expect(withTenant(P2, () => router.query(`SELECT 1`))).rejects.toMatchObject({ code: 'TENANT_UNAVAILABLE' })
    entries.set(P2, { tenantId: P2, strategy: 'pool', state: 'active' })
    directory.invalidate()
    await withTenant(P2, () => router.query(`SELECT 1`))
  })
})
