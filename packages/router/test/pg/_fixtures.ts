import { randomBytes } from 'node:crypto'
import { APP_ROLE, withClient, withDatabase } from '@tenantscope/test-harness'
import pg from 'pg'

/** Roles are cluster-wide: every test file names its own. */
export function rolePrefix(): string {
  return `rt${randomBytes(3).toString('hex')}_`
}

/**
 * A schema tenant made by hand (the provisioning API has its own tests):
 * schema, a NOLOGIN role with privileges on that schema only, reachable by
 * the app role through a NOINHERIT gate role.
 */
export async function makeSchemaTenant(adminUrl: string, gate: string, schema: string, role: string): Promise<void> {
  await withClient(adminUrl, async (admin) => {
    await admin.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${gate}') THEN
          CREATE ROLE ${gate} NOLOGIN NOINHERIT;
        END IF;
      END $$;
      GRANT ${gate} TO ${APP_ROLE.name};
      CREATE ROLE ${role} NOLOGIN;
      GRANT ${role} TO ${gate};
      CREATE SCHEMA ${schema};
      CREATE TABLE ${schema}.projects (id serial PRIMARY KEY, name text NOT NULL);
      GRANT USAGE ON SCHEMA ${schema} TO ${role};
      GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${role};
      GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${schema} TO ${role};
    `)
  })
}

/** After the test databases are dropped (a role with privileges in a database cannot be dropped). */
export async function dropRoles(adminUrl: string, prefix: string): Promise<void> {
  await withClient(withDatabase(adminUrl, 'postgres'), async (admin) => {
    const { rows } = await admin.query<{ rolname: string }>(`SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)`, [prefix])
    for (const { rolname } of rows) await admin.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(rolname)}`)
  })
}

export async function insertTenants(adminUrl: string, ids: string[]): Promise<void> {
  await withClient(adminUrl, (admin) =>
    admin.query(`INSERT INTO tenants (id, name) SELECT id, 'tenant ' || id FROM unnest($1::uuid[]) AS id`, [ids]),
  )
}
