// The checks added to match the RLS linters (issue 13) and the ones issues 11 and 18 asked for,
// each on its own table so that every finding points at one object.
import { randomBytes } from 'node:crypto'
import { type DoctorConnection, runDoctor } from '@tenantscope/doctor'
import { createTestDatabase, type TestDatabase, withClient, withDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

const APP = 'tenantscope_test_app'

describe('linter checks on the live catalog', () => {
  let db: TestDatabase
  let pool: pg.Pool
  beforeAll(async () => {
    db = await createTestDatabase()
    await withClient(db.adminUrl, (admin) =>
      admin.query(`
        -- A policy that hands row values to a function that is not LEAKPROOF.
        CREATE FUNCTION l_shout(value text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT upper(value) $$;
        CREATE TABLE l_leaky (tenant_id uuid NOT NULL, id uuid NOT NULL DEFAULT gen_random_uuid(), label text, PRIMARY KEY (tenant_id, id));
        ALTER TABLE l_leaky ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
        CREATE POLICY l_leaky_all ON l_leaky FOR ALL
          USING (tenant_id = (SELECT tenantscope.current_tenant_id()) AND l_shout(label) <> 'HIDDEN')
          WITH CHECK (tenant_id = (SELECT tenantscope.current_tenant_id()));
        -- A sequence every tenant shares, on which the app role may call setval().
        CREATE TABLE l_counted (tenant_id uuid NOT NULL, id bigserial, PRIMARY KEY (tenant_id, id));
        SELECT tenantscope.enable_tenant_rls('l_counted');
        GRANT SELECT, INSERT, UPDATE, DELETE ON l_leaky, l_counted TO tenantscope_app;
        GRANT USAGE, UPDATE ON SEQUENCE l_counted_id_seq TO tenantscope_app;
        -- A SECURITY DEFINER function owned by the superuser, callable by everyone, naming no tenant table.
        CREATE FUNCTION l_run(query text) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER AS $$
          DECLARE n bigint; BEGIN EXECUTE query INTO n; RETURN n; END $$;
      `),
    )
    pool = new pg.Pool({ connectionString: db.adminUrl, max: 1 })
  })
  afterAll(async () => {
    await pool?.end()
    await db?.drop()
  })

  test('a non-LEAKPROOF function of the row in a policy', async () => {
    const report = await runDoctor(pool, { role: APP, tables: ['l_leaky'] })
    expect(report.findings.map((f) => [f.code, f.object])).toEqual([['policy_non_leakproof_function', 'l_leaky_all ON public.l_leaky']])
    expect(report.findings[0]!.why).toContain('public.l_shout')
  })

  test('a shared sequence the app role may setval(): a warning whose fix revokes it', async () => {
    const report = await runDoctor(pool, { role: APP, tables: ['l_counted'] })
    expect(report.findings.map((f) => [f.code, f.severity, f.object])).toEqual([
      ['sequence_shared_across_tenants', 'warning', 'public.l_counted_id_seq'],
    ])
    expect(report.findings[0]!.fix).toBe('REVOKE UPDATE ON SEQUENCE public.l_counted_id_seq FROM tenantscope_app;')
  })

  test('a SECURITY DEFINER function owned by a role that bypasses RLS, callable by the app', async () => {
    const report = await runDoctor(pool, { role: APP, schemas: ['public'] })
    const found = report.findings.filter((f) => f.code === 'security_definer_owner_bypasses_rls')
    expect(found.map((f) => [f.severity, f.object])).toEqual([['warning', 'public.l_run(query text)']])
  })

  test('an app role without privileges on a tenant table (42501 looks like a policy refusal)', async () => {
    await withClient(db.adminUrl, (admin) =>
      admin.query(`CREATE TABLE l_no_grant (tenant_id uuid NOT NULL PRIMARY KEY); SELECT tenantscope.enable_tenant_rls('l_no_grant')`),
    )
    const report = await runDoctor(pool, { role: APP, tables: ['l_no_grant'] })
    expect(report.findings.map((f) => [f.code, f.severity, f.fix])).toEqual([
      ['app_role_no_privileges', 'warning', `GRANT SELECT, INSERT, UPDATE, DELETE ON public.l_no_grant TO ${APP};`],
    ])
  })

  test('the fixes clear their findings', async () => {
    const tables = ['l_counted', 'l_no_grant']
    const before = await runDoctor(pool, { role: APP, tables })
    expect(before.findings).toHaveLength(2)
    await withClient(db.adminUrl, async (admin) => {
      for (const finding of before.findings) await admin.query(finding.fix!)
    })
    // The shared sequence stays, as information: a key per tenant is a design decision.
    expect((await runDoctor(pool, { role: APP, tables })).findings.map((f) => [f.code, f.severity])).toEqual([
      ['sequence_shared_across_tenants', 'info'],
    ])
  })
})

describe('large objects the app role may read', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase()
  })
  afterAll(async () => {
    await db?.drop()
  })

  test('have no row level security: reported, naming the grant', async () => {
    const client = new pg.Client({ connectionString: db.adminUrl })
    await client.connect()
    try {
      expect((await runDoctor(client, { role: APP })).findings).toEqual([])
      await client.query(`DO $$ DECLARE o oid := lo_from_bytea(0, 'tenant A''s invoice'); BEGIN
                            EXECUTE format('GRANT SELECT ON LARGE OBJECT %s TO tenantscope_app', o); END $$`)
      const report = await runDoctor(client, { role: APP })
      expect(report.findings.map((f) => [f.code, f.severity, f.object])).toEqual([
        ['large_objects_shared_across_tenants', 'warning', 'large objects'],
      ])
      expect(report.findings[0]!.why).toContain('1 large object (lo_get, lo_open) (granted to tenantscope_app, or owned)')
    } finally {
      await client.end()
    }
  })
})

// Issue 11: roles are cluster-wide. The harness's app role is a member of tenantscope_app, which
// holds grants in every test database: from one database, the doctor sees it reach the other.
describe('an app role that reaches tenant tables in another database of the server', () => {
  let one: TestDatabase
  let two: TestDatabase
  const lonely = `ts_doctor_${randomBytes(4).toString('hex')}_lonely`
  beforeAll(async () => {
    one = await createTestDatabase()
    two = await createTestDatabase()
    await withClient(one.adminUrl, (admin) => admin.query(`CREATE ROLE ${lonely} LOGIN; GRANT SELECT ON projects TO ${lonely}`))
  })
  afterAll(async () => {
    await one?.drop()
    await two?.drop()
    await withClient(withDatabase(one.adminUrl, 'postgres'), (admin) => admin.query(`DROP ROLE IF EXISTS ${lonely}`))
  })

  const connect = async (database: string): Promise<DoctorConnection> => {
    const client = new pg.Client({ connectionString: withDatabase(one.adminUrl, database) })
    client.on('error', () => undefined)
    await client.connect()
    return client
  }

  test('is reported, naming the database, the grant it connects through and its tenant tables', async () => {
    const client = await connect(one.name)
    try {
      const report = await runDoctor(client, { role: APP, otherDatabases: { connect, only: [two.name] } })
      expect(report.findings.map((f) => [f.code, f.severity, f.object])).toEqual([['app_role_reaches_other_database', 'error', two.name]])
      expect(report.findings[0]!.why).toContain('public.invoices, public.projects, public.users')
      expect(report.findings[0]!.why).toContain('through PUBLIC')
      // Without otherDatabases nothing is opened and nothing is said.
      expect((await runDoctor(client, { role: APP })).findings).toEqual([])
    } finally {
      await client.end()
    }
  })

  test('a role with grants in this database only is not', async () => {
    const client = await connect(one.name)
    try {
      const report = await runDoctor(client, { role: lonely, tables: ['projects'], otherDatabases: { connect, only: [two.name] } })
      expect(report.findings.filter((f) => f.objectType === 'database')).toEqual([])
    } finally {
      await client.end()
    }
  })
})
