import { createHash } from 'node:crypto'
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
 * The scaling data set: `tenants` tenants of `rowsPerTenant` projects each
 * (generate_series, one INSERT per table), with ids derived from their
 * numbers (see scaleTenantId, scaleProjectId), so that the benchmark can pick
 * any tenant and any of its rows uniformly without holding 2 million ids.
 * Foreign-key triggers are skipped during the load (session_replication_role
 * = replica): the rows are generated consistent, and checking 2 million of
 * them would only slow the load.
 */
export async function loadScaleTenants(adminUrl: string, tenants: number, rowsPerTenant: number): Promise<void> {
  await withClient(adminUrl, async (client) => {
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM tenants')
    if (rows[0]!.n !== 0) throw new Error(`the scaling database already has ${rows[0]!.n} tenants`)
    await client.query('SET session_replication_role = replica')
    await client.query(
      `INSERT INTO tenants (id, name) SELECT md5('${TENANT_PREFIX}' || k)::uuid, 'tenant ' || k FROM generate_series(1, $1::int) k`,
      [tenants],
    )
    await client.query(
      `INSERT INTO projects (tenant_id, id, name, created_at)
       SELECT t.id, md5(t.id::text || '/' || g)::uuid, 'project ' || g, now() - g * interval '1 minute'
         FROM tenants t CROSS JOIN generate_series(1, $1::int) g`,
      [rowsPerTenant],
    )
    await client.query('VACUUM ANALYZE tenants, projects')
  })
}

const TENANT_PREFIX = 'bench-tenant-'
const uuidOf = (text: string) => {
  const hex = createHash('md5').update(text).digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** The id loadScaleTenants gives tenant `k` (1-based): md5('bench-tenant-' || k)::uuid. */
export const scaleTenantId = (k: number): string => uuidOf(`${TENANT_PREFIX}${k}`)

/** The id loadScaleTenants gives project `g` (1-based) of tenant `tenantId`: md5(tenant_id::text || '/' || g)::uuid. */
export const scaleProjectId = (tenantId: string, g: number): string => uuidOf(`${tenantId}/${g}`)
