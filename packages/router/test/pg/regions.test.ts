import { randomUUID } from 'node:crypto'
import { withTenant } from '@tenantscope/core'
import {
  createTableDirectory,
  createTenant,
  createTenantRouter,
  dropTenant,
  migrateTenants,
  migrationFrom,
  type TenantRouter,
} from '@tenantscope/router'
import { APP_ROLE, createTestDatabase, type TestDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { dropRoles, rolePrefix } from './_fixtures.js'

// Region tenants are provisioned, migrated, served and dropped in their
// region's database only; the directory stays on the primary.
describe('schema tenants pinned to a region', () => {
  const prefix = rolePrefix()
  const [HOME, EU] = [randomUUID(), randomUUID()]
  const init = [migrationFrom('0000_init', 'CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)')]
  let primary: TestDatabase
  let eu: TestDatabase
  let admin: pg.Pool
  let euAdmin: pg.Pool
  let appPool: pg.Pool
  let router: TenantRouter

  beforeAll(async () => {
    ;[primary, eu] = await Promise.all([createTestDatabase(), createTestDatabase()])
    admin = new pg.Pool({ connectionString: primary.adminUrl, max: 2 })
    euAdmin = new pg.Pool({ connectionString: eu.adminUrl, max: 2 })
    const common = { strategy: 'schema', appRole: APP_ROLE.name, gateRole: `${prefix}gate`, migrations: init } as const
    await createTenant(admin, { ...common, tenantId: HOME, schema: 'tenant_home', role: `${prefix}home` })
    await expect(
      createTenant(admin, { ...common, tenantId: EU, schema: 'tenant_eu', role: `${prefix}eu`, region: 'eu' }),
    ).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    await createTenant(admin, { ...common, tenantId: EU, schema: 'tenant_eu', role: `${prefix}eu`, region: 'eu', regionAdmin: euAdmin })
    appPool = new pg.Pool({ connectionString: primary.appUrl, max: 1 })
    router = createTenantRouter({
      directory: await createTableDirectory(appPool),
      pool: { connectionString: primary.appUrl, max: 1 },
      regions: { eu: { connectionString: eu.appUrl, max: 1 } },
    })
  })
  afterAll(async () => {
    await router?.end()
    await Promise.all([appPool?.end(), admin?.end(), euAdmin?.end()])
    await Promise.all([primary?.drop(), eu?.drop()])
    await dropRoles(primary.adminUrl, prefix)
  })

  const schemasIn = async (pool: pg.Pool) =>
    (await pool.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\\_%' ORDER BY 1`)).rows.map((r) => r.nspname)

  test('the schema is made in the region, and the router serves the tenant there', async () => {
    expect(await schemasIn(admin)).toEqual(['tenant_home'])
    expect(await schemasIn(euAdmin)).toEqual(['tenant_eu'])
    const db = await withTenant(EU, async () => {
      await router.query(`INSERT INTO notes (body) VALUES ('eu')`)
      return (await router.query(`SELECT current_database() AS db, body FROM notes`)).rows
    })
    expect(db).toEqual([{ db: eu.name, body: 'eu' }])
  })

  test('migrations reach the region; without its pool the region tenant fails, never runs on the primary', async () => {
    const more = [...init, migrationFrom('0001_done', 'ALTER TABLE notes ADD COLUMN done boolean')]
    const without = await migrateTenants({ admin, migrations: more, shared: false })
    expect(without.failed).toEqual([expect.objectContaining({ tenantId: EU, region: 'eu', code: 'INVALID_CONFIG' })])
    const run = await migrateTenants({ admin, migrations: more, shared: false, regions: { eu: euAdmin } })
    expect(run).toMatchObject({ ok: true, targets: 2 })
    expect((await withTenant(EU, () => router.query(`SELECT body, done FROM notes`))).rows).toEqual([{ body: 'eu', done: null }])
  })

  test('dropTenant drops the schema in the region, and refuses without the region pool before removing anything', async () => {
    await expect(dropTenant(admin, EU)).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    expect(await schemasIn(euAdmin)).toEqual(['tenant_eu'])
    expect(await dropTenant(admin, EU, { regions: { eu: euAdmin } })).toMatchObject({ region: 'eu' })
    expect(await schemasIn(euAdmin)).toEqual([])
    expect(await schemasIn(admin)).toEqual(['tenant_home'])
  })
})
