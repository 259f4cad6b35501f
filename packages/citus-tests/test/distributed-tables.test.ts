import { type CitusTestDatabase, createCitusTestDatabase, withClient } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

// tenantscope.distribute_tenant_table / distribute_reference_table (sql/0005_citus.sql)
// on the harness's 3-node cluster.
describe('distributed tenant tables', () => {
  let db: CitusTestDatabase
  let admin: pg.Pool

  beforeAll(async () => {
    db = await createCitusTestDatabase()
    admin = new pg.Pool({ connectionString: db.adminUrl, max: 2 })
  })
  afterAll(async () => {
    await admin?.end()
    await db?.drop()
  })

  test('the cluster has a coordinator and two active workers', async () => {
    const { rows } = await admin.query(`SELECT node_port FROM citus_get_active_worker_nodes() ORDER BY node_port`)
    expect(rows.map((row) => Number(row.node_port)).sort()).toEqual([...db.workerPorts].sort())
  })

  test('the example schema is distributed by tenant, colocated, with a forced policy without sub-select on every shard', async () => {
    const { rows } = await admin.query(`
      SELECT table_name::text AS name, distribution_column AS col, colocation_id
        FROM citus_tables WHERE table_name::text IN ('tenants', 'users', 'projects', 'invoices') ORDER BY 1`)
    expect(rows.map((row) => [row.name, row.col])).toEqual([
      ['invoices', 'tenant_id'],
      ['projects', 'tenant_id'],
      ['tenants', 'id'],
      ['users', 'tenant_id'],
    ])
    expect(new Set(rows.map((row) => row.colocation_id)).size).toBe(1)
    const policy = await admin.query(
      `SELECT pg_get_expr(polqual, polrelid) AS q, pg_get_expr(polwithcheck, polrelid) AS c
         FROM pg_policy WHERE polrelid = 'projects'::regclass`,
    )
    expect(policy.rows).toHaveLength(1)
    expect(policy.rows[0].q).not.toMatch(/select/i)
    expect(policy.rows[0].q).toMatch(/current_setting\('app.current_tenant'/)
    // On the workers: every shard of projects has RLS forced and the same policy.
    for (const url of db.workerAdminUrls) {
      const shards = await withClient(url, async (client) => {
        // Citus hides shards from pg_class unless told otherwise.
        await client.query('SET citus.override_table_visibility = off')
        return client.query(`
          SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, count(p.*)::int AS policies
            FROM pg_class c LEFT JOIN pg_policy p ON p.polrelid = c.oid
           WHERE c.relname ~ '^projects_[0-9]+$' AND c.relkind = 'r'
           GROUP BY 1, 2, 3`)
      })
      expect(shards.rows.length).toBeGreaterThan(0)
      for (const shard of shards.rows) expect(shard).toMatchObject({ relrowsecurity: true, relforcerowsecurity: true, policies: 1 })
    }
  })

  test('the tenant column default was set before distribution and is evaluated on the coordinator', async () => {
    const { rows } = await admin.query(
      `SELECT pg_get_expr(d.adbin, d.adrelid) AS def FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
        WHERE d.adrelid = 'projects'::regclass AND a.attname = 'tenant_id'`,
    )
    expect(rows[0].def).toMatch(/current_setting\('app.current_tenant'/)
  })

  test('running the helper again changes nothing and fails nothing', async () => {
    await admin.query(`SELECT tenantscope.distribute_tenant_table('projects', colocate_with => 'tenants')`)
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM pg_policy WHERE polrelid = 'projects'::regclass`)
    expect(rows[0].n).toBe(1)
  })

  test('a key without the tenant column is refused with the fix, and the table stays local', async () => {
    await admin.query(`CREATE TABLE bad_keys (tenant_id uuid NOT NULL, id uuid PRIMARY KEY)`)
    await expect(admin.query(`SELECT tenantscope.distribute_tenant_table('bad_keys')`)).rejects.toMatchObject({
      code: '42P16',
      message: expect.stringMatching(/primary key bad_keys_pkey .* does not include the tenant column tenant_id/),
      hint: expect.stringMatching(/PRIMARY KEY \(tenant_id, id\)/),
    })
    await admin.query(`CREATE TABLE bad_unique (tenant_id uuid NOT NULL, id uuid, email text, PRIMARY KEY (tenant_id, id))`)
    await admin.query(`CREATE UNIQUE INDEX bad_unique_email ON bad_unique (email)`)
    await expect(admin.query(`SELECT tenantscope.distribute_tenant_table('bad_unique')`)).rejects.toMatchObject({
      code: '42P16',
      message: expect.stringMatching(/unique index public.bad_unique_email/),
    })
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM citus_tables WHERE table_name::text IN ('bad_keys', 'bad_unique')`)
    expect(rows[0].n).toBe(0)
  })

  test('a policy of the user with a sub-select is refused by name, with the plain form as the fix', async () => {
    await admin.query(`CREATE TABLE subselect_policy (tenant_id uuid NOT NULL, id uuid, PRIMARY KEY (tenant_id, id))`)
    await admin.query(`ALTER TABLE subselect_policy ENABLE ROW LEVEL SECURITY`)
    await admin.query(
      `CREATE POLICY mine ON subselect_policy USING (tenant_id = (SELECT NULLIF(current_setting('app.current_tenant', true), '')::uuid))`,
    )
    await expect(admin.query(`SELECT tenantscope.distribute_tenant_table('subselect_policy')`)).rejects.toMatchObject({
      code: '0A000',
      message: expect.stringMatching(/policy mine .* holds a sub-select/),
      hint: expect.stringMatching(/tenant_id = NULLIF\(current_setting\('app.current_tenant', true\), ''\)::uuid/),
    })
  })

  test('a table distributed by another column is refused', async () => {
    await admin.query(`CREATE TABLE by_other (tenant_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, id))`)
    await admin.query(`SELECT create_distributed_table('by_other', 'id')`)
    await expect(admin.query(`SELECT tenantscope.distribute_tenant_table('by_other')`)).rejects.toMatchObject({
      code: '42P16',
      message: expect.stringMatching(/distributed by id, not by the tenant column tenant_id/),
    })
  })

  test('reference tables: shared data on every node; a table with the tenant column is refused', async () => {
    await admin.query(`CREATE TABLE plans (id text PRIMARY KEY, price_cents int NOT NULL)`)
    await admin.query(`SELECT tenantscope.distribute_reference_table('plans')`)
    await admin.query(`SELECT tenantscope.distribute_reference_table('plans')`) // idempotent
    const { rows } = await admin.query(`SELECT citus_table_type FROM citus_tables WHERE table_name = 'plans'::regclass`)
    expect(rows).toEqual([{ citus_table_type: 'reference' }])
    await admin.query(`CREATE TABLE tenant_notes (tenant_id uuid NOT NULL, body text)`)
    await expect(admin.query(`SELECT tenantscope.distribute_reference_table('tenant_notes')`)).rejects.toMatchObject({
      code: '42P16',
      message: expect.stringMatching(/has the tenant column tenant_id/),
    })
  })

  test('a foreign key from a tenant table to a reference table needs no tenant column', async () => {
    await admin.query(`CREATE TABLE currencies (code char(3) PRIMARY KEY)`)
    await admin.query(`SELECT tenantscope.distribute_reference_table('currencies')`)
    await admin.query(`
      CREATE TABLE prices (tenant_id uuid NOT NULL, id uuid NOT NULL, currency char(3) REFERENCES currencies (code),
                           PRIMARY KEY (tenant_id, id))`)
    await admin.query(`SELECT tenantscope.distribute_tenant_table('prices', colocate_with => 'tenants')`)
    const { rows } = await admin.query(`SELECT distribution_column FROM citus_tables WHERE table_name = 'prices'::regclass`)
    expect(rows).toEqual([{ distribution_column: 'tenant_id' }])
  })
})
