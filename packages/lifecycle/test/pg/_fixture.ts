import { randomUUID } from 'node:crypto'
import { createTestDatabase, MAINTENANCE_ROLE, type TestDatabase } from '@tenantscope/test-harness'
import pg from 'pg'

// Beyond the example schema (tenants, users, projects, invoices): a table
// with the tenant column but no key to tenants and a serial id, a table with
// no tenant column that reaches projects by a foreign key, and one more hop.
export const EXTRA_SCHEMA = `
CREATE TABLE audit_log (tenant_id uuid NOT NULL, id bigserial PRIMARY KEY, message text NOT NULL, at timestamptz NOT NULL DEFAULT now());
CREATE TABLE comments (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, project_tenant uuid NOT NULL, project_id uuid NOT NULL, body text NOT NULL,
  FOREIGN KEY (project_tenant, project_id) REFERENCES projects (tenant_id, id));
CREATE TABLE reactions (comment_id bigint NOT NULL REFERENCES comments (id), emoji text NOT NULL, PRIMARY KEY (comment_id, emoji));
`

export interface LifecycleDatabase {
  db: TestDatabase
  admin: pg.Client
  /** Connected as the maintenance role (BYPASSRLS), as the lifecycle functions expect. */
  maintenance: pg.Client
  end(): Promise<void>
}

export async function lifecycleDatabase(): Promise<LifecycleDatabase> {
  const db = await createTestDatabase()
  const admin = new pg.Client({ connectionString: db.adminUrl })
  await admin.connect()
  await admin.query(EXTRA_SCHEMA)
  // The maintenance role (BYPASSRLS) with the privileges an export, a restore and an erase need.
  const role = MAINTENANCE_ROLE.name
  await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role};
    GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO ${role};
    GRANT USAGE ON SCHEMA tenantscope TO ${role}; GRANT SELECT, INSERT ON tenantscope.tenant_erasures TO ${role}`)
  const maintenance = new pg.Client({ connectionString: db.maintenanceUrl })
  await maintenance.connect()
  return {
    db,
    admin,
    maintenance,
    async end() {
      await maintenance.end().catch(() => undefined)
      await admin.end()
      await db.drop()
    },
  }
}

/** A tenant with rows in every kind of table, some with text that COPY must escape. */
export async function seedTenant(admin: pg.Client, name: string, projects = 3): Promise<string> {
  const id = randomUUID()
  await admin.query(`INSERT INTO tenants (id, name) VALUES ($1, $2)`, [id, name])
  await admin.query(`INSERT INTO users (tenant_id, email, name) VALUES ($1, $2, $3)`, [
    id,
    `${name}@example.com`,
    `${name}\ttab\nnewline \\ backslash`,
  ])
  for (let i = 0; i < projects; i++) {
    const { rows } = await admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, $2) RETURNING id`, [id, `${name} project ${i}`])
    await admin.query(`INSERT INTO invoices (tenant_id, project_id, amount_cents) VALUES ($1, $2, $3), ($1, $2, $4)`, [
      id,
      rows[0].id,
      100 + i,
      200 + i,
    ])
    const comment = await admin.query(`INSERT INTO comments (project_tenant, project_id, body) VALUES ($1, $2, $3) RETURNING id`, [
      id,
      rows[0].id,
      `${name} says hi ${i}`,
    ])
    await admin.query(`INSERT INTO reactions (comment_id, emoji) VALUES ($1, '👍'), ($1, 'ok')`, [comment.rows[0].id])
  }
  await admin.query(`INSERT INTO audit_log (tenant_id, message) VALUES ($1, 'created'), ($1, 'seeded')`, [id])
  return id
}

/** Every row of the tenant, per table, as the admin sees them (ids that a restore keeps included). */
export async function snapshot(admin: pg.Client, tenantId: string): Promise<Record<string, unknown[]>> {
  const queries: Record<string, string> = {
    tenants: `SELECT id, name FROM tenants WHERE id = $1`,
    users: `SELECT id, email, name, created_at FROM users WHERE tenant_id = $1 ORDER BY id`,
    projects: `SELECT id, name, created_at FROM projects WHERE tenant_id = $1 ORDER BY id`,
    invoices: `SELECT id, project_id, amount_cents, currency, status FROM invoices WHERE tenant_id = $1 ORDER BY id`,
    audit_log: `SELECT id, message FROM audit_log WHERE tenant_id = $1 ORDER BY id`,
    comments: `SELECT id, project_id, body FROM comments WHERE project_tenant = $1 ORDER BY id`,
    reactions: `SELECT r.comment_id, r.emoji FROM reactions r JOIN comments c ON c.id = r.comment_id WHERE c.project_tenant = $1 ORDER BY 1, 2`,
  }
  const result: Record<string, unknown[]> = {}
  for (const [table, text] of Object.entries(queries)) result[table] = (await admin.query(text, [tenantId])).rows
  return result
}
