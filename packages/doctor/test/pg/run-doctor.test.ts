import { createTenantPool } from '@tenantscope/core'
import { DoctorError, hasFindingsAtLeast, runDoctor } from '@tenantscope/doctor'
import { createTestDatabase, type TestDatabase, withClient } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

describe("runDoctor from users' code", () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase()
    await withClient(db.adminUrl, (admin) =>
      admin.query(`CREATE SCHEMA billing;
                   CREATE TABLE billing.ledger (tenant_id uuid NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY, PRIMARY KEY (tenant_id, id));
                   CREATE TABLE public.orgs_data (org_id uuid NOT NULL, id int PRIMARY KEY);`),
    )
  })
  afterAll(async () => {
    await db.drop()
  })

  test('on a pg.Pool: findings are data, filtered by schema and table', async () => {
    const pool = new pg.Pool({ connectionString: db.adminUrl, max: 1 })
    try {
      const report = await runDoctor(pool, { role: 'tenantscope_test_app' })
      expect(report.tables).toEqual(['billing.ledger', 'public.invoices', 'public.projects', 'public.users'])
      expect(report.findings.map((f) => [f.code, f.severity, f.object, f.table])).toEqual([
        ['rls_disabled', 'error', 'billing.ledger', 'billing.ledger'],
        // No GRANT to the app role: every query would fail with 42501, which reads like a policy refusal.
        ['app_role_no_privileges', 'warning', 'billing.ledger', 'billing.ledger'],
        // The identity column's sequence counts every tenant's rows.
        ['sequence_shared_across_tenants', 'info', 'billing.ledger_id_seq', 'billing.ledger'],
      ])
      expect(report.findings[0]!.fix).toBe(
        'ALTER TABLE billing.ledger ENABLE ROW LEVEL SECURITY;\nALTER TABLE billing.ledger FORCE ROW LEVEL SECURITY;\n' +
          "CREATE POLICY tenantscope_isolation ON billing.ledger AS PERMISSIVE FOR ALL\n  USING (tenant_id = (SELECT NULLIF(current_setting('app.current_tenant', true), '')::uuid))\n  WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.current_tenant', true), '')::uuid));",
      )
      expect(report.counts).toEqual({ error: 1, warning: 1, info: 1 })
      expect(hasFindingsAtLeast(report, 'error')).toBe(true)
      expect((await runDoctor(pool, { role: 'tenantscope_test_app', schemas: ['public'] })).findings).toEqual([])
      expect((await runDoctor(pool, { role: 'tenantscope_test_app', tables: ['users', 'public.projects'] })).tables).toEqual([
        'public.projects',
        'public.users',
      ])
      const other = await runDoctor(pool, { role: 'tenantscope_test_app', tenantColumn: 'org_id' })
      expect(other.tables).toEqual(['public.orgs_data'])
      expect(other.findings.map((f) => f.code).sort()).toEqual([
        'app_role_no_privileges',
        'no_tenant_first_index',
        'primary_key_without_tenant',
        'rls_disabled',
      ])
    } finally {
      await pool.end()
    }
  })

  test('on a TenantPool outside any tenant: read through its unscoped pool, as the app role', async () => {
    const pool = createTenantPool({ connectionString: db.appUrl, max: 1 })
    try {
      const report = await runDoctor(pool, { schemas: ['public'] })
      expect(report.role).toBe('tenantscope_test_app')
      expect(report.findings).toEqual([])
    } finally {
      await pool.end()
    }
  })

  test('bad options and unknown roles throw DoctorError with a code', async () => {
    const client = new pg.Client({ connectionString: db.appUrl })
    await client.connect()
    try {
      const unknown = await runDoctor(client, { role: 'nobody_here' }).catch((error: unknown) => error)
      expect(DoctorError.is(unknown) && unknown.code).toBe('ROLE_NOT_FOUND')
      const setting = await runDoctor(client, { setting: "x'; DROP TABLE users; --" }).catch((error: unknown) => error)
      expect(DoctorError.is(setting) && setting.code).toBe('INVALID_OPTION')
      const column = await runDoctor(client, { tenantColumn: '' }).catch((error: unknown) => error)
      expect(DoctorError.is(column) && column.code).toBe('INVALID_OPTION')
    } finally {
      await client.end()
    }
  })
})
