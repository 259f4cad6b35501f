import { randomBytes } from 'node:crypto'
import { type ExampleTenant, placement } from '@tenantscope/example-api'
import { applyMigrations, exampleMigrations, migrations } from '@tenantscope/sql'
import pg from 'pg'

export interface DemoDatabase {
  name: string
  /** The admin on the demo database: migrations, seed, the queue. */
  adminUrl: string
  /** The application role: LOGIN, member of tenantscope_app, not superuser, not BYPASSRLS, owns nothing. */
  appUrl: string
  appRole: string
  /** The SQL that drops everything the demo made on the server (for --keep). */
  dropStatements(tenants: readonly ExampleTenant[]): string[]
  /** Drops the tenants' databases and roles, the database and the role. */
  drop(tenants: readonly ExampleTenant[]): Promise<void>
}

/**
 * A fresh database on the server at `serverUrl` (a superuser, or a role with
 * CREATEDB and CREATEROLE), with tenantscope's migrations, the example
 * schema, and a new application login role.
 */
export async function createDemoDatabase(serverUrl: string): Promise<DemoDatabase> {
  const suffix = randomBytes(4).toString('hex')
  const name = `tenantscope_demo_${suffix}`
  const appRole = `tenantscope_demo_app_${suffix}`
  const password = randomBytes(18).toString('base64url')
  await withClient(serverUrl, async (server) => {
    await server.query(`CREATE DATABASE ${name}`)
  })
  const adminUrl = withDatabase(serverUrl, name)
  try {
    await withClient(adminUrl, async (admin) => {
      // Tables are created (and owned) by the admin, never by the app role.
      await applyMigrations(admin, [...migrations, ...exampleMigrations])
      await admin.query(
        `CREATE ROLE ${appRole} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD ${pg.escapeLiteral(password)}`,
      )
      await admin.query(`GRANT tenantscope_app TO ${appRole}`)
    })
  } catch (error) {
    await dropDemoDatabase(serverUrl, name, appRole, []).catch(() => undefined)
    throw error
  }
  return {
    name,
    adminUrl,
    appUrl: withDatabase(serverUrl, name, { user: appRole, password }),
    appRole,
    dropStatements: (tenants) => dropStatements(name, appRole, tenants),
    drop: (tenants) => dropDemoDatabase(serverUrl, name, appRole, tenants),
  }
}

// The tenant databases and schema roles are named after the demo's database
// (placement()), so they can be dropped without reading the directory: this
// also cleans up after a run stopped half-way through provisioning.
function dropStatements(name: string, appRole: string, tenants: readonly ExampleTenant[]): string[] {
  const places = tenants.map((tenant) => placement(name, tenant))
  return [
    `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`,
    ...places.flatMap((p) => (p.database ? [`DROP DATABASE IF EXISTS ${p.database} WITH (FORCE)`] : [])),
    ...places.flatMap((p) => (p.role ? [`DROP ROLE IF EXISTS ${p.role}`] : [])),
    `DROP ROLE IF EXISTS ${appRole}`,
  ]
}

async function dropDemoDatabase(serverUrl: string, name: string, appRole: string, tenants: readonly ExampleTenant[]): Promise<void> {
  await withClient(serverUrl, async (server) => {
    // Pools resolve end() before their connections are closed: give them a
    // moment, so that FORCE only terminates what is really left.
    for (let i = 0; i < 40; i++) {
      const { rows } = await server.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name])
      if (rows[0].n === 0) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    for (const statement of dropStatements(name, appRole, tenants)) await server.query(statement)
  })
}

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

function withDatabase(url: string, database: string, login?: { user: string; password: string }): string {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  if (login) {
    parsed.username = login.user
    parsed.password = login.password
  }
  return parsed.toString()
}
