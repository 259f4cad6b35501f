import { createTenantPool, type TenantPool } from '@tenantscope/core'
import { createTestDatabase, type TestDatabase } from '@tenantscope/test-harness'
import { assertTenantIsolation } from '@tenantscope/testing'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

describe('the shipped example schema', () => {
  let db: TestDatabase
  let pool: TenantPool
  let adminPool: pg.Pool

  beforeAll(async () => {
    db = await createTestDatabase()
    pool = createTenantPool({ connectionString: db.appUrl, max: 2 })
    adminPool = new pg.Pool({ connectionString: db.adminUrl, max: 2 })
  })
  afterAll(async () => {
    await pool.end()
    await adminPool.end()
    await db.drop()
  })

  const counts = async () =>
    (
      await adminPool.query(
        `SELECT (SELECT count(*) FROM tenants)::int AS tenants, (SELECT count(*) FROM users)::int AS users,
                (SELECT count(*) FROM projects)::int AS projects, (SELECT count(*) FROM invoices)::int AS invoices`,
      )
    ).rows[0]

  test('passes as the application role, and leaves nothing behind', async () => {
    const before = await counts()
    const report = await assertTenantIsolation({ pool, adminPool })
    expect(report).toEqual({
      ok: true,
      role: 'tenantscope_test_app',
      tables: ['public.invoices', 'public.projects', 'public.users'],
      views: [],
      failures: [],
    })
    expect(await counts()).toEqual(before)
  })
})

describe('when the application role may create tenants itself', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase()
    const admin = new pg.Client({ connectionString: db.adminUrl })
    await admin.connect()
    await admin.query('GRANT INSERT ON tenants TO tenantscope_app')
    await admin.end()
  })
  afterAll(async () => {
    await db.drop()
  })

  test('no adminPool is needed: the tenants are created in the rolled-back transaction too', async () => {
    const pool = createTenantPool({ connectionString: db.appUrl, max: 1 })
    const admin = new pg.Client({ connectionString: db.adminUrl })
    await admin.connect()
    try {
      const report = await assertTenantIsolation({ pool })
      expect(report.ok).toBe(true)
      expect(report.tables).toEqual(['public.invoices', 'public.projects', 'public.users'])
      const { rows } = await admin.query('SELECT count(*)::int AS n FROM tenants')
      expect(rows[0].n).toBe(0)
    } finally {
      await admin.end()
      await pool.end()
    }
  })
})
