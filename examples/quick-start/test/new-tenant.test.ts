import { randomUUID } from 'node:crypto'
import { createTenantPool, type TenantPool, withTenant } from '@tenantscope/core'
import { createTestDatabase, type TestDatabase, withClient } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

// The recipes of docs/new-tenant.md, on the example schema (tenants has RLS on its id), as the app role.
describe('creating a tenant (docs/new-tenant.md)', () => {
  let db: TestDatabase
  let pool: TenantPool

  beforeAll(async () => {
    db = await createTestDatabase()
    await withClient(db.adminUrl, (admin) => admin.query('GRANT INSERT ON tenants TO tenantscope_app'))
    pool = createTenantPool({ connectionString: db.appUrl, max: 2 })
  })
  afterAll(async () => {
    await pool?.end()
    await db?.drop()
  })

  async function signUp(company: string, email: string) {
    const tenantId = randomUUID()
    await withTenant(tenantId, () =>
      pool.transaction(async (tx) => {
        await tx.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [tenantId, company])
        await tx.query('INSERT INTO users (email, name) VALUES ($1, $2)', [email, email])
      }),
    )
    return tenantId
  }

  test('sign-up: the app role creates the new tenant and its first user inside withTenant(newId)', async () => {
    const acme = await signUp('Acme', 'ada@acme.test')
    const globex = await signUp('Globex', 'ada@acme.test') // the same email in another tenant
    expect((await withTenant(acme, () => pool.query('SELECT id, name FROM tenants'))).rows).toEqual([{ id: acme, name: 'Acme' }])
    expect((await withTenant(globex, () => pool.query('SELECT tenant_id FROM users'))).rows).toEqual([{ tenant_id: globex }])
  })

  test('inside withTenant(newId) the app role cannot create any other tenant (42501), and nothing is written', async () => {
    const own = randomUUID()
    const other = randomUUID()
    await expect(
      withTenant(own, () => pool.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [other, 'forged'])),
    ).rejects.toMatchObject({ code: '42501' })
    const { rows } = await withClient(db.adminUrl, (admin) => admin.query('SELECT count(*)::int AS n FROM tenants WHERE id = $1', [other]))
    expect(rows[0].n).toBe(0)
  })

  test('provisioning from outside: the maintenance pool (BYPASSRLS) creates a tenant the app then serves', async () => {
    const maintenance = new pg.Pool({ connectionString: db.maintenanceUrl, max: 1 })
    try {
      const { rows } = await maintenance.query('INSERT INTO tenants (name) VALUES ($1) RETURNING id', ['Initech'])
      const id = rows[0].id as string
      expect((await withTenant(id, () => pool.query('SELECT name FROM tenants'))).rows).toEqual([{ name: 'Initech' }])
    } finally {
      await maintenance.end()
    }
  })
})
