// Views and materialized views that expose other tenants' rows to the app
// role (issue 15): RLS does not apply to materialized views, and a view runs
// with its owner's rights unless security_invoker. Each case is checked on the
// live catalog, and each fix is pasted as is and shown to close the hole.
import { randomBytes, randomUUID } from 'node:crypto'
import { type DoctorReport, runDoctor } from '@tenantscope/doctor'
import { createTenantRollup } from '@tenantscope/router'
import { createTestDatabase, type TestDatabase, withClient, withDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

const APP = 'tenantscope_test_app'
const VIEW_CODES = [
  'materialized_view_over_tenant_table',
  'view_exposes_materialized_view',
  'tenant_view_without_security_barrier',
  'view_without_security_invoker',
]

describe('doctor: views and materialized views the app role can read', () => {
  let db: TestDatabase
  let admin: pg.Pool
  const [A, B] = [randomUUID(), randomUUID()]
  // Roles are cluster-wide: this file's own, subject to RLS.
  const owner = `v_owner_${randomBytes(3).toString('hex')}`

  // A fresh table per test, with rows of two tenants and the shipped policy.
  async function tenantTable(name: string): Promise<void> {
    await admin.query(`
      CREATE TABLE ${name} (tenant_id uuid NOT NULL, id serial, amount int NOT NULL, PRIMARY KEY (tenant_id, id));
      SELECT tenantscope.enable_tenant_rls('${name}');
      GRANT SELECT ON ${name} TO tenantscope_app;
      INSERT INTO ${name} (tenant_id, amount) VALUES ('${A}', 1), ('${B}', 2);`)
  }
  const viewFindings = async (table: string) =>
    ((await runDoctor(admin, { role: APP, tables: [table] })) as DoctorReport).findings
      .filter((f) => VIEW_CODES.includes(f.code))
      .map((f) => ({ code: f.code, severity: f.severity, object: f.object, fix: f.fix }))
  // What A's context reads from a relation, as the app role.
  const readAs = (tenant: string, relation: string) =>
    withClient(db.appUrl, async (client) => {
      await client.query('BEGIN')
      await client.query(`SELECT set_config('app.current_tenant', $1, true)`, [tenant])
      const { rows } = await client.query(`SELECT tenant_id FROM ${relation} ORDER BY tenant_id`)
      await client.query('COMMIT')
      return rows.map((row) => row.tenant_id as string)
    })
  const paste = async (fix: string | undefined) => {
    expect(fix).toBeDefined()
    await admin.query(fix!)
  }

  beforeAll(async () => {
    db = await createTestDatabase()
    admin = new pg.Pool({ connectionString: db.adminUrl, max: 2 })
    await admin.query(`CREATE ROLE ${owner} NOLOGIN`)
    await admin.query(`INSERT INTO tenants (id, name) VALUES ($1, 'a'), ($2, 'b')`, [A, B])
  })
  afterAll(async () => {
    await admin?.end()
    await db?.drop()
    await withClient(withDatabase(db.adminUrl, 'postgres'), (c) => c.query(`DROP ROLE IF EXISTS ${owner}`))
  })

  test('a materialized view the app role can read: an error; the pasted fix takes it out of reach', async () => {
    await tenantTable('v_sales')
    await admin.query(`CREATE MATERIALIZED VIEW v_sales_totals AS SELECT tenant_id, sum(amount) AS total FROM v_sales GROUP BY 1;
      GRANT SELECT ON v_sales_totals TO tenantscope_app`)
    expect(await readAs(A, 'v_sales_totals')).toEqual([A, B].sort()) // the hole: A reads B's totals
    const findings = await viewFindings('v_sales')
    expect(findings.map((f) => [f.code, f.severity, f.object])).toEqual([
      ['materialized_view_over_tenant_table', 'error', 'public.v_sales_totals'],
    ])
    expect(findings[0]!.fix).toContain('createTenantRollup')
    await paste(findings[0]!.fix)
    await expect(readAs(A, 'v_sales_totals')).rejects.toMatchObject({ code: '42501' })
    expect(await viewFindings('v_sales')).toEqual([])
  })

  test("createTenantRollup's rollup is clean, and the app reads only its own tenant's row through it", async () => {
    await tenantTable('v_orders')
    await createTenantRollup(admin, {
      name: 'v_orders_rollup',
      query: 'SELECT tenant_id, sum(amount) AS total FROM v_orders GROUP BY 1',
      grantTo: ['tenantscope_app'],
    })
    expect(await readAs(A, 'v_orders_rollup')).toEqual([A])
    expect(await viewFindings('v_orders')).toEqual([])
  })

  test('a view over a materialized view that does not filter by tenant: an error even when its owner is subject to RLS', async () => {
    await tenantTable('v_visits')
    await admin.query(`
      CREATE SCHEMA IF NOT EXISTS v_private;
      CREATE MATERIALIZED VIEW v_private.v_visits_totals AS SELECT tenant_id, sum(amount) AS total FROM v_visits GROUP BY 1;
      CREATE VIEW v_visits_report AS SELECT tenant_id, total FROM v_private.v_visits_totals;
      GRANT SELECT ON v_visits_report TO tenantscope_app;
      -- Owned by a role subject to RLS: the old check called this a warning ("RLS holds only while...").
      GRANT USAGE ON SCHEMA v_private TO ${owner};
      ALTER MATERIALIZED VIEW v_private.v_visits_totals OWNER TO ${owner};
      ALTER VIEW v_visits_report OWNER TO ${owner};`)
    expect(await readAs(A, 'v_visits_report')).toEqual([A, B].sort())
    const findings = await viewFindings('v_visits')
    expect(findings.map((f) => [f.code, f.severity, f.object])).toEqual([
      ['view_exposes_materialized_view', 'error', 'public.v_visits_report'],
    ])
    await paste(findings[0]!.fix)
    await expect(readAs(A, 'v_visits_report')).rejects.toMatchObject({ code: '42501' })
    expect(await viewFindings('v_visits')).toEqual([])
  })

  test('a filter that an OR defeats is not taken for a tenant filter', async () => {
    await tenantTable('v_leads')
    await admin.query(`
      CREATE SCHEMA IF NOT EXISTS v_private;
      CREATE MATERIALIZED VIEW v_private.v_leads_totals AS SELECT tenant_id, sum(amount) AS total FROM v_leads GROUP BY 1;
      CREATE VIEW v_leads_report WITH (security_barrier) AS SELECT * FROM v_private.v_leads_totals
        WHERE tenant_id = (SELECT NULLIF(current_setting('app.current_tenant', true), '')::uuid) OR total > 0;
      GRANT SELECT ON v_leads_report TO tenantscope_app;`)
    expect(await readAs(A, 'v_leads_report')).toEqual([A, B].sort())
    expect((await viewFindings('v_leads')).map((f) => f.code)).toEqual(['view_exposes_materialized_view'])
  })

  test('a tenant-filtering view without security_barrier: a warning; the pasted fix sets it', async () => {
    await tenantTable('v_calls')
    await admin.query(`
      CREATE SCHEMA IF NOT EXISTS v_private;
      CREATE MATERIALIZED VIEW v_private.v_calls_totals AS SELECT tenant_id, sum(amount) AS total FROM v_calls GROUP BY 1;
      CREATE VIEW v_calls_report AS SELECT * FROM v_private.v_calls_totals
        WHERE tenant_id = (SELECT NULLIF(current_setting('app.current_tenant', true), '')::uuid);
      GRANT SELECT ON v_calls_report TO tenantscope_app;`)
    expect(await readAs(A, 'v_calls_report')).toEqual([A])
    const findings = await viewFindings('v_calls')
    expect(findings.map((f) => [f.code, f.severity, f.object])).toEqual([
      ['tenant_view_without_security_barrier', 'warning', 'public.v_calls_report'],
    ])
    await paste(findings[0]!.fix)
    expect(await viewFindings('v_calls')).toEqual([])
    expect(await readAs(A, 'v_calls_report')).toEqual([A])
  })

  test('a view owned by a superuser without security_invoker: an error; the pasted fix makes RLS apply to the reader', async () => {
    await tenantTable('v_notes')
    await admin.query(`CREATE VIEW v_notes_all AS SELECT tenant_id, amount FROM v_notes; GRANT SELECT ON v_notes_all TO tenantscope_app`)
    expect(await readAs(A, 'v_notes_all')).toEqual([A, B].sort())
    const findings = await viewFindings('v_notes')
    expect(findings.map((f) => [f.code, f.severity, f.object])).toEqual([['view_without_security_invoker', 'error', 'public.v_notes_all']])
    await paste(findings[0]!.fix)
    expect(await readAs(A, 'v_notes_all')).toEqual([A])
    expect(await viewFindings('v_notes')).toEqual([])
  })

  test('views and materialized views the app role cannot read are not reported', async () => {
    await tenantTable('v_audit')
    await admin.query(`
      CREATE MATERIALIZED VIEW v_audit_totals AS SELECT tenant_id, count(*) AS n FROM v_audit GROUP BY 1;
      CREATE VIEW v_audit_all AS SELECT tenant_id FROM v_audit;`)
    await expect(readAs(A, 'v_audit_all')).rejects.toMatchObject({ code: '42501' })
    expect(await viewFindings('v_audit')).toEqual([])
    // Granted, both are reported: the check looks at what the app role may read, not at names.
    await admin.query(`GRANT SELECT ON v_audit_totals, v_audit_all TO tenantscope_app`)
    expect((await viewFindings('v_audit')).map((f) => f.object).sort()).toEqual(['public.v_audit_all', 'public.v_audit_totals'])
  })

  test('a materialized view readable through a column grant to a group role: reported, and the pasted fix revokes the column grant', async () => {
    const group = `v_cols_${randomBytes(3).toString('hex')}`
    await tenantTable('v_usage')
    await admin.query(`
      CREATE MATERIALIZED VIEW v_usage_totals AS SELECT tenant_id, sum(amount) AS total FROM v_usage GROUP BY 1;
      CREATE ROLE ${group} NOLOGIN;
      GRANT ${group} TO ${APP};
      GRANT SELECT (tenant_id) ON v_usage_totals TO ${group};`)
    try {
      expect(await readAs(A, 'v_usage_totals')).toEqual([A, B].sort()) // the hole, through one column
      const findings = await viewFindings('v_usage')
      expect(findings.map((f) => [f.code, f.object])).toEqual([['materialized_view_over_tenant_table', 'public.v_usage_totals']])
      expect(findings[0]!.fix).toContain(group)
      await paste(findings[0]!.fix)
      await expect(readAs(A, 'v_usage_totals')).rejects.toMatchObject({ code: '42501' })
      expect(await viewFindings('v_usage')).toEqual([])
    } finally {
      await admin.query(`DROP MATERIALIZED VIEW IF EXISTS v_usage_totals; DROP OWNED BY ${group}; DROP ROLE ${group}`)
    }
  })
})
