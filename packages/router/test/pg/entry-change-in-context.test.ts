import { randomUUID } from 'node:crypto'
import { withTenant } from '@tenantscope/core'
import { createTenantDirectory, createTenantRouter, type TenantEntry, type TenantRouter } from '@tenantscope/router'
import { createTestDatabase, type TestDatabase } from '@tenantscope/test-harness'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { dropRoles, insertTenants, makeSchemaTenant, rolePrefix } from './_fixtures.js'

// A tenant's entry can change in the middle of one withTenant (a mover
// freezes it, then switches its place): every statement is routed by the
// entry of its own moment, never by the setter an earlier statement of the
// same context was sent with.

const prefix = rolePrefix()
let db: TestDatabase
let router: TenantRouter
const entries = new Map<string, TenantEntry>()
const directory = createTenantDirectory((id) => entries.get(id))

beforeAll(async () => {
  db = await createTestDatabase()
  router = createTenantRouter({ directory, pool: { connectionString: db.appUrl, max: 1 } })
})
afterAll(async () => {
  await router?.end()
  await db?.drop()
  await dropRoles(db.adminUrl, prefix)
})

test('a write in the same withTenant after the tenant froze (moving) is refused with TENANT_UNAVAILABLE', async () => {
  const id = randomUUID()
  await insertTenants(db.adminUrl, [id])
  entries.set(id, { tenantId: id, strategy: 'pool', state: 'active' })
  const outcome = await withTenant(id, async () => {
    await router.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'before-freeze')`, [id])
    // The mover freezes the tenant; the directory's listener invalidates.
    entries.set(id, { tenantId: id, strategy: 'pool', state: 'moving' })
    directory.invalidate(id)
    try {
      await router.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'after-freeze')`, [id])
      return 'written'
    } catch (error) {
      return (error as { code?: string }).code
    }
  })
  expect(outcome).toBe('TENANT_UNAVAILABLE')
  const { rows } = await withTenant(id, () => router.query<{ name: string }>(`SELECT name FROM projects ORDER BY id`))
  expect(rows).toEqual([{ name: 'before-freeze' }])
})

test('after a switch pool → schema, the next statement in the same withTenant runs in the tenant schema, as its role', async () => {
  const id = randomUUID()
  await insertTenants(db.adminUrl, [id])
  await makeSchemaTenant(db.adminUrl, `${prefix}gate`, 'tenant_switched', `${prefix}switched`)
  entries.set(id, { tenantId: id, strategy: 'pool', state: 'active' })
  const [before, after] = await withTenant(id, async () => {
    const place = `SELECT current_user AS role, current_setting('search_path') AS path`
    const first = (await router.query(place)).rows[0]
    entries.set(id, { tenantId: id, strategy: 'schema', schema: 'tenant_switched', role: `${prefix}switched`, state: 'active' })
    directory.invalidate(id)
    return [first, (await router.query(place)).rows[0]]
  })
  expect(before?.role).not.toBe(`${prefix}switched`)
  expect(after).toEqual({ role: `${prefix}switched`, path: '"tenant_switched"' })
})
