// Issue 13: a setting other than app.current_tenant works end to end: the SQL
// helper writes the policy for it, the tenant pool sends it, the doctor finds
// the table clean when told the setting (and not otherwise), and the kit proves
// isolation with it.
import { randomUUID } from 'node:crypto'
import { createTenantPool, type TenantPool, withTenant } from '@tenantscope/core'
import { runDoctor } from '@tenantscope/doctor'
import { createTestDatabase, type TestDatabase, withClient } from '@tenantscope/test-harness'
import { assertTenantIsolation } from '@tenantscope/testing'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

const setting = 'myapp.tenant'

describe('a custom tenant setting, end to end', () => {
  let db: TestDatabase
  let pool: TenantPool
  let adminPool: pg.Pool
  beforeAll(async () => {
    db = await createTestDatabase()
    await withClient(db.adminUrl, (admin) =>
      admin.query(`
        CREATE TABLE notes (tenant_id uuid NOT NULL, id uuid NOT NULL DEFAULT gen_random_uuid(), body text, PRIMARY KEY (tenant_id, id));
        SELECT tenantscope.enable_tenant_rls('notes', 'tenant_id', '${setting}');
        GRANT SELECT, INSERT, UPDATE, DELETE ON notes TO tenantscope_app;`),
    )
    pool = createTenantPool({ connectionString: db.appUrl, max: 2 }, { setting })
    adminPool = new pg.Pool({ connectionString: db.adminUrl, max: 2 })
  })
  afterAll(async () => {
    await pool?.end()
    await adminPool?.end()
    await db?.drop()
  })

  test('the pool scopes rows by it: the column default and the policy read it', async () => {
    const [a, b] = [randomUUID(), randomUUID()]
    await withTenant(a, () => pool.query(`INSERT INTO notes (body) VALUES ('a note')`))
    expect((await withTenant(a, () => pool.query('SELECT tenant_id, body FROM notes'))).rows).toEqual([{ tenant_id: a, body: 'a note' }])
    expect((await withTenant(b, () => pool.query('SELECT * FROM notes'))).rows).toEqual([])
    // A pool that sends the default setting reaches nothing: the policy reads only the custom one.
    const other = createTenantPool({ connectionString: db.appUrl, max: 1 })
    try {
      expect((await withTenant(a, () => other.query('SELECT * FROM notes'))).rows).toEqual([])
    } finally {
      await other.end()
    }
  })

  test('the doctor finds it clean with --setting, and says the policy reads another setting without it', async () => {
    expect((await runDoctor(pool, { setting, tables: ['notes'] })).findings).toEqual([])
    const wrong = await runDoctor(pool, { tables: ['notes'] })
    expect(wrong.findings.map((finding) => finding.code)).toEqual(['policy_bypass_setting'])
  })

  test('the kit proves isolation with it', async () => {
    const report = await assertTenantIsolation({ pool, adminPool, setting, tables: ['notes'] })
    expect(report.ok).toBe(true)
    expect(report.tables).toEqual(['public.notes'])
  })
})
