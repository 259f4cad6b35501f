import { withClient } from '@tenantscope/test-harness'

export interface Tenant {
  readonly id: string
  readonly projectIds: readonly string[]
}

/**
 * Workload data: `tenants` tenants with `projects` projects and a few
 * invoices each, loaded as the admin (RLS does not apply to it), then
 * analyzed so every mode sees the same plans.
 */
export async function seedWorkload(adminUrl: string, tenants: number, projects: number): Promise<Tenant[]> {
  return withClient(adminUrl, async (client) => {
    await client.query(`INSERT INTO tenants (name) SELECT 'tenant ' || g FROM generate_series(1, $1::int) g`, [tenants])
    await client.query(
      `INSERT INTO projects (tenant_id, name, created_at)
       SELECT t.id, 'project ' || g, now() - g * interval '1 minute' FROM tenants t CROSS JOIN generate_series(1, $1::int) g`,
      [projects],
    )
    await client.query(
      `INSERT INTO invoices (tenant_id, project_id, amount_cents)
       SELECT p.tenant_id, p.id, (random() * 100000)::bigint FROM projects p CROSS JOIN generate_series(1, 3)`,
    )
    await client.query('VACUUM ANALYZE')
    const { rows } = await client.query<{ id: string; project_ids: string[] }>(
      `SELECT t.id, array_agg(p.id ORDER BY p.id) AS project_ids FROM tenants t JOIN projects p ON p.tenant_id = t.id GROUP BY t.id ORDER BY t.id`,
    )
    return rows.map((row) => ({ id: row.id, projectIds: row.project_ids }))
  })
}

/**
 * Grows the scaling data set to `tenants` tenants of `rowsPerTenant`
 * projects each (generate_series, one INSERT per step). Foreign-key triggers
 * are skipped during the load (session_replication_role = replica): the rows
 * are generated consistent, and checking 2 million of them would only slow
 * the load.
 */
export async function growTenants(adminUrl: string, tenants: number, rowsPerTenant: number): Promise<void> {
  await withClient(adminUrl, async (client) => {
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM tenants')
    const missing = tenants - rows[0]!.n
    if (missing <= 0) return
    await client.query('SET session_replication_role = replica')
    await client.query('CREATE TEMP TABLE new_tenants AS SELECT gen_random_uuid() AS id FROM generate_series(1, $1::int)', [missing])
    await client.query(`INSERT INTO tenants (id, name) SELECT id, 'tenant ' || id FROM new_tenants`)
    await client.query(
      `INSERT INTO projects (tenant_id, name, created_at)
       SELECT t.id, 'project ' || g, now() - g * interval '1 minute' FROM new_tenants t CROSS JOIN generate_series(1, $1::int) g`,
      [rowsPerTenant],
    )
    await client.query('DROP TABLE new_tenants')
    await client.query('VACUUM ANALYZE tenants, projects')
  })
}

/** Up to `limit` tenants with their projects, spread over the whole table. */
export async function sampleTenants(adminUrl: string, limit: number): Promise<Tenant[]> {
  return withClient(adminUrl, async (client) => {
    const { rows } = await client.query<{ id: string; project_ids: string[] }>(
      `SELECT t.id, array_agg(p.id) AS project_ids
         FROM (SELECT id FROM tenants ORDER BY random() LIMIT $1) t JOIN projects p ON p.tenant_id = t.id
        GROUP BY t.id`,
      [limit],
    )
    return rows.map((row) => ({ id: row.id, projectIds: row.project_ids }))
  })
}
