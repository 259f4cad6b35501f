import { randomBytes, randomUUID } from 'node:crypto'
import { withTenant } from '@tenantscope/core'
import { createTenantDirectory, createTenantRouter, type TenantEntry, type TenantRouter } from '@tenantscope/router'
import {
  APP_ROLE,
  createTestDatabase,
  type PgBouncer,
  startPgBouncer,
  type TestDatabase,
  withClient,
  withDatabase,
} from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

// The router's schema strategy sets the role and search_path
// transaction-locally: behind PgBouncer in transaction mode, on one server
// connection shared by every client, nothing of one tenant reaches the next.
describe('the router through PgBouncer in transaction mode', () => {
  const prefix = `rb${randomBytes(3).toString('hex')}_`
  const [P, S1, S2] = [randomUUID(), randomUUID(), randomUUID()]
  let db: TestDatabase
  let single: PgBouncer
  let router: TenantRouter
  const entries = new Map<string, TenantEntry>([
    [P, { tenantId: P, strategy: 'pool', state: 'active' }],
    [S1, { tenantId: S1, strategy: 'schema', schema: 'tenant_s1', role: `${prefix}s1`, state: 'active' }],
    [S2, { tenantId: S2, strategy: 'schema', schema: 'tenant_s2', role: `${prefix}s2`, state: 'active' }],
  ])

  beforeAll(async () => {
    db = await createTestDatabase()
    await withClient(db.adminUrl, async (admin) => {
      await admin.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [P, 'pool tenant'])
      await admin.query(`CREATE ROLE ${prefix}gate NOLOGIN NOINHERIT; GRANT ${prefix}gate TO ${APP_ROLE.name}`)
      for (const name of ['s1', 's2']) {
        await admin.query(`CREATE ROLE ${prefix}${name} NOLOGIN; GRANT ${prefix}${name} TO ${prefix}gate;
          CREATE SCHEMA tenant_${name}; CREATE TABLE tenant_${name}.projects (id serial PRIMARY KEY, name text NOT NULL);
          GRANT USAGE ON SCHEMA tenant_${name} TO ${prefix}${name};
          GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA tenant_${name} TO ${prefix}${name};
          GRANT USAGE ON ALL SEQUENCES IN SCHEMA tenant_${name} TO ${prefix}${name}`)
      }
    })
    single = await startPgBouncer(db.adminUrl, { poolSize: 1 })
    const pool = new pg.Pool({ connectionString: single.url(db.appUrl), max: 6 })
    pool.on('error', () => undefined)
    router = createTenantRouter({ directory: createTenantDirectory((id) => entries.get(id)), pool })
  })
  afterAll(async () => {
    await router?.end().catch(() => undefined)
    await single?.stop()
    await db?.drop()
    await withClient(withDatabase(db.adminUrl, 'postgres'), async (admin) => {
      for (const name of ['s1', 's2', 'gate']) await admin.query(`DROP ROLE IF EXISTS ${prefix}${name}`)
    })
  })

  test('interleaved tenants of both kinds on one server connection: each in its own place, nothing left behind', async () => {
    const tasks = Array.from({ length: 60 }, (_, i) => {
      const tenant = [P, S1, S2][i % 3]!
      return withTenant(tenant, async () => {
        await router.query(`INSERT INTO projects (name) VALUES ($1)`, [tenant])
        const { rows } = await router.query<{ name: string; who: string }>(`SELECT name, current_user AS who FROM projects`)
        return { tenant, rows }
      })
    })
    for (const { tenant, rows } of await Promise.all(tasks)) {
      expect(rows.every((row) => row.name === tenant)).toBe(true)
      const role = tenant === P ? APP_ROLE.name : tenant === S1 ? `${prefix}s1` : `${prefix}s2`
      expect(rows.every((row) => row.who === role)).toBe(true)
    }
    await expect(withTenant(S1, () => router.query(`SELECT * FROM tenant_s2.projects`))).rejects.toMatchObject({ code: '42501' })
    // An unscoped client on the same (only) server connection: the app role, the default search_path.
    const after = await withClient(single.url(db.appUrl), (client) =>
      client.query(`SELECT current_user AS who, current_setting('search_path') AS path, current_setting('transaction_read_only') AS ro`),
    )
    expect(after.rows[0]).toEqual({ who: APP_ROLE.name, path: '"$user", public', ro: 'off' })
  })
})
