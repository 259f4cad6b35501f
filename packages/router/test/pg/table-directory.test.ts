import { randomUUID } from 'node:crypto'
import { withTenant } from '@tenantscope/core'
import { createTableDirectory, createTenantRouter, type TenantRouter } from '@tenantscope/router'
import { createTestDatabase, type TestDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { insertTenants } from './_fixtures.js'

describe('createTableDirectory: tenantscope.tenant_directory, changes announced by NOTIFY', () => {
  const [A, B] = [randomUUID(), randomUUID()]
  let db: TestDatabase
  let admin: pg.Pool
  let appPool: pg.Pool
  let routers: TenantRouter[]

  beforeAll(async () => {
    db = await createTestDatabase()
    admin = new pg.Pool({ connectionString: db.adminUrl, max: 1 })
    await insertTenants(db.adminUrl, [A, B])
    await admin.query(`INSERT INTO tenantscope.tenant_directory (tenant_id, strategy) VALUES ($1, 'pool')`, [A])
    appPool = new pg.Pool({ connectionString: db.appUrl, max: 1 })
    // Two app instances; the TTL is far longer than the test: only the notification can make them see a change.
    routers = await Promise.all(
      [1, 2].map(async () =>
        createTenantRouter({
          directory: await createTableDirectory(appPool, { ttlMillis: 3_600_000, listen: db.appUrl }),
          pool: { connectionString: db.appUrl, max: 1 },
        }),
      ),
    )
  })
  afterAll(async () => {
    for (const router of routers ?? []) await router.end()
    await appPool?.end()
    await admin?.end()
    await db?.drop()
  })

  const state = (router: TenantRouter, tenant: string) =>
    withTenant(tenant, () => router.query(`SELECT 1`)).then(
      () => 'served',
      (error: { code?: string }) => error.code,
    )

  test('the app role reads the directory; an entry change reaches every instance', async () => {
    for (const router of routers) expect(await state(router, A)).toBe('served')
    for (const router of routers) expect(await state(router, B)).toBe('TENANT_UNKNOWN')

    await admin.query(`UPDATE tenantscope.tenant_directory SET state = 'read_only' WHERE tenant_id = $1`, [A])
    await admin.query(`INSERT INTO tenantscope.tenant_directory (tenant_id, strategy) VALUES ($1, 'pool')`, [B])
    for (const router of routers) {
      await expect.poll(() => withTenant(A, async () => (await router.currentEntry()).state)).toBe('read_only')
      await expect(withTenant(A, () => router.query(`INSERT INTO projects (name) VALUES ('x')`))).rejects.toMatchObject({
        code: 'TENANT_READ_ONLY',
      })
      await expect.poll(() => state(router, B)).toBe('served')
    }
    await admin.query(`DELETE FROM tenantscope.tenant_directory WHERE tenant_id = $1`, [B])
    for (const router of routers) await expect.poll(() => state(router, B)).toBe('TENANT_UNKNOWN')
  })

  test('a lost listener connection drops the cache and comes back; changes after it still arrive', async () => {
    const listeners = async () =>
      (
        await admin.query<{ pid: number }>(
          // A listener's last statement may be an acknowledgement: known by its application_name.
          `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND starts_with(application_name, 'tenantscope-directory:')`,
          [db.name],
        )
      ).rows.map((row) => row.pid)
    await expect.poll(async () => (await listeners()).length).toBe(2)
    const before = await listeners()
    await admin.query(`SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid`, [before])
    // Both reconnect: two listening backends, neither of them the old ones.
    await expect.poll(async () => (await listeners()).filter((pid) => !before.includes(pid)).length, { timeout: 10_000 }).toBe(2)
    // Cache the current entry again, then change it: only the new listeners can tell (the TTL is an hour).
    for (const router of routers) await state(router, A)
    await admin.query(`UPDATE tenantscope.tenant_directory SET state = 'suspended' WHERE tenant_id = $1`, [A])
    for (const router of routers) await expect.poll(() => state(router, A)).toBe('TENANT_UNAVAILABLE')
  })

  test('the app role cannot change the directory', async () => {
    await expect(appPool.query(`UPDATE tenantscope.tenant_directory SET strategy = 'pool'`)).rejects.toMatchObject({ code: '42501' })
  })

  test('the table refuses an entry that cannot be routed', async () => {
    await expect(
      admin.query(`INSERT INTO tenantscope.tenant_directory (tenant_id, strategy) VALUES ('x', 'schema')`),
    ).rejects.toMatchObject({ code: '23514' })
    await expect(
      admin.query(
        `INSERT INTO tenantscope.tenant_directory (tenant_id, strategy, schema_name, role_name) VALUES ('x', 'schema', 'Bad;name', 'r')`,
      ),
    ).rejects.toMatchObject({ code: '23514' })
  })
})
