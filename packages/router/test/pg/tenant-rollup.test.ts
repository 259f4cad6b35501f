import { randomUUID } from 'node:crypto'
import { createTenantPool, withTenant } from '@tenantscope/core'
import { createTenantRollup, refreshTenantRollup } from '@tenantscope/router'
import { createTestDatabase, type TestDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { insertTenants } from './_fixtures.js'

// RLS does not apply to materialized views: the rollup must still show a
// tenant only its own rows when read through the app role.
describe('createTenantRollup: a materialized view behind a tenant-filtering view', () => {
  const [A, B] = [randomUUID(), randomUUID()]
  let db: TestDatabase
  let admin: pg.Pool
  let app: pg.Pool

  beforeAll(async () => {
    db = await createTestDatabase()
    admin = new pg.Pool({ connectionString: db.adminUrl, max: 1 })
    app = new pg.Pool({ connectionString: db.appUrl, max: 1 })
    await insertTenants(db.adminUrl, [A, B])
    await admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'a1'), ($1, 'a2'), ($2, 'b1')`, [A, B])
    await createTenantRollup(admin, {
      name: 'project_counts',
      query: 'SELECT tenant_id, count(*)::int AS n FROM projects GROUP BY tenant_id',
    })
  })
  afterAll(async () => {
    await app?.end()
    await admin?.end()
    await db?.drop()
  })

  test('a tenant reads only its own rollup row; outside a tenant, none; the materialized view itself is out of reach', async () => {
    const pool = createTenantPool(app)
    expect((await withTenant(A, () => pool.query(`SELECT tenant_id, n FROM project_counts`))).rows).toEqual([{ tenant_id: A, n: 2 }])
    expect((await withTenant(B, () => pool.query(`SELECT tenant_id, n FROM project_counts`))).rows).toEqual([{ tenant_id: B, n: 1 }])
    expect((await app.query(`SELECT * FROM project_counts`)).rows).toEqual([])
    await expect(app.query(`SELECT * FROM tenantscope_rollups.project_counts`)).rejects.toMatchObject({ code: '42501' })
  })

  test('refresh recomputes it for every tenant', async () => {
    await admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'b2')`, [B])
    await refreshTenantRollup(admin, { name: 'project_counts' })
    const pool = createTenantPool(app)
    expect((await withTenant(B, () => pool.query(`SELECT n FROM project_counts`))).rows).toEqual([{ n: 2 }])
  })

  test('names that are not plain identifiers are refused before anything is sent', async () => {
    await expect(createTenantRollup(admin, { name: 'x; DROP TABLE projects', query: 'SELECT 1' })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
    })
  })
})
