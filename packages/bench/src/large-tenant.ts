import { withClient } from '@tenantscope/test-harness'

/** The large tenant: `projects` projects with 4 invoices each, and its tenants row. */
export async function seedLargeTenant(adminUrl: string, projects: number): Promise<string> {
  return withClient(adminUrl, async (admin) => {
    const { rows } = await admin.query<{ id: string }>(`INSERT INTO tenants (name) VALUES ('large') RETURNING id`)
    const id = rows[0]!.id
    // The rows are generated consistent; checking 1M foreign keys would only slow the load.
    await admin.query('SET session_replication_role = replica')
    await admin.query(`INSERT INTO projects (tenant_id, name) SELECT $1, 'project ' || g FROM generate_series(1, $2::int) g`, [
      id,
      projects,
    ])
    await admin.query(
      `INSERT INTO invoices (tenant_id, project_id, amount_cents) SELECT tenant_id, id, g FROM projects, generate_series(1, 4) g WHERE tenant_id = $1`,
      [id],
    )
    await admin.query('RESET session_replication_role')
    await admin.query('VACUUM ANALYZE tenants, projects, invoices')
    await admin.query('CHECKPOINT')
    return id
  })
}
