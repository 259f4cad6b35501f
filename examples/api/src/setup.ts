import {
  createTenant,
  DEFAULT_GATE_ROLE,
  dropTenant,
  listTenants,
  type MigrateSummary,
  migrateTenants,
  type TenantEntry,
  type TenantStrategy,
} from '@tenantscope/router'
import { applyMigrations, exampleMigrations, migrations } from '@tenantscope/sql'
import pg from 'pg'
import { sameLoginOn } from './db.js'
import { appMigrations, databaseMigrations } from './migrations.js'

/** A tenant the setup provisions. */
export interface ExampleTenant {
  id: string
  name: string
  kind: TenantStrategy
  /** A short lower-case identifier: names the tenant's schema, role or database. */
  key: string
}

export interface SetupOptions {
  /** The primary database as its owner: a superuser, or a role with CREATEDB and CREATEROLE. Never the app role. */
  adminUrl: string
  /**
   * The application's LOGIN role (not superuser, not BYPASSRLS, owns nothing):
   * it is made a member of tenantscope_app, and of the NOINHERIT gate role
   * that reaches the schema tenants' roles.
   */
  appRole: string
  tenants: readonly ExampleTenant[]
  /** The owner's connection string on a tenant database. @default the admin's login on that database */
  adminUrlFor?: (database: string) => string
}

export interface SetupResult {
  /** Each tenant's directory entry, and whether this run created it. */
  tenants: (TenantEntry & { name: string; created: boolean })[]
  /** The migration run over the tenant schemas and databases (nothing to do on a rerun). */
  migrations: MigrateSummary
}

/** Where a tenant of each kind lives. Roles and databases are cluster-wide: prefixed with the primary database's name. */
export function placement(primary: string, tenant: ExampleTenant): { schema?: string; role?: string; database?: string } {
  const name = (text: string) => {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(text)) throw new Error(`${text} is not a lower-case identifier of at most 63 characters`)
    return text
  }
  if (tenant.kind === 'schema') return { schema: name(`tenant_${tenant.key}`), role: name(`${primary}_${tenant.key}`) }
  if (tenant.kind === 'database') return { database: name(`${primary}_${tenant.key}`) }
  return {}
}

/**
 * Makes the primary database and one tenant per entry of `tenants`, each
 * where its kind says: the shared tables (pool), a schema and role of its own
 * (schema), a database of its own (database), all from the application's
 * migrations, and records them in tenantscope.tenant_directory. Idempotent:
 * a rerun creates what is missing, applies new migrations, changes nothing else.
 */
export async function setupExample(options: SetupOptions): Promise<SetupResult> {
  const admin = new pg.Pool({ connectionString: options.adminUrl, max: 2 })
  admin.on('error', () => undefined)
  const adminUrlFor = options.adminUrlFor ?? ((database: string) => sameLoginOn(options.adminUrl, database))
  const connectionFor = (entry: TenantEntry) => adminUrlFor(entry.database!)
  try {
    await applyMigrations(admin, [...migrations, ...exampleMigrations])
    const { rows } = await admin.query<{ db: string }>('SELECT current_database() AS db')
    const primary = rows[0]!.db
    const existing = new Map((await listTenants(admin)).map((entry) => [entry.tenantId, entry]))
    const result: SetupResult['tenants'] = []
    for (const tenant of options.tenants) {
      let entry = existing.get(tenant.id)
      const created = entry === undefined
      if (entry === undefined) {
        const where = placement(primary, tenant)
        entry = await createTenant(admin, {
          tenantId: tenant.id,
          strategy: tenant.kind,
          ...where,
          ...(tenant.kind === 'schema' ? { migrations: appMigrations, appRole: options.appRole } : {}),
          ...(tenant.kind === 'database' ? { migrations: databaseMigrations, connectionFor } : {}),
        })
      } else if (entry.strategy !== tenant.kind) {
        throw new Error(`tenant ${tenant.name} exists as a ${entry.strategy} tenant, not ${tenant.kind}: drop it first`)
      }
      result.push({ ...entry, name: tenant.name, created })
    }
    // Grants are repeated on every run (a rerun with another app role works):
    // the table privileges of tenantscope_app, and the gate to the schema tenants' roles.
    const appRole = pg.escapeIdentifier(options.appRole)
    await admin.query(`GRANT tenantscope_app TO ${appRole}`)
    if (result.some((entry) => entry.strategy === 'schema')) await admin.query(`GRANT ${DEFAULT_GATE_ROLE} TO ${appRole}`)
    // Migrations added since the tenants were made reach every one of them.
    const summary = await migrateTenants({
      admin,
      migrations: appMigrations,
      shared: false,
      tenants: result.filter((entry) => entry.strategy !== 'pool'),
      connectionFor,
    })
    if (!summary.ok) {
      const failure = summary.failed[0]!
      throw new Error(`migration ${failure.migration} failed on ${failure.kind} ${failure.schema}: ${failure.code} ${failure.message}`)
    }
    for (const entry of result) await recordTenantRow(admin, entry, adminUrlFor)
    return { tenants: result, migrations: summary }
  } finally {
    await admin.end()
  }
}

// The tenant's own row of `tenants`, in the place it lives (GET /me reads it).
async function recordTenantRow(admin: pg.Pool, entry: TenantEntry & { name: string }, adminUrlFor: (database: string) => string) {
  const insert = (table: string) => `INSERT INTO ${table} (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`
  if (entry.strategy === 'pool') await admin.query(insert('public.tenants'), [entry.tenantId, entry.name])
  if (entry.strategy === 'schema') await admin.query(insert(`${pg.escapeIdentifier(entry.schema!)}.tenants`), [entry.tenantId, entry.name])
  if (entry.strategy === 'database') {
    const client = new pg.Client({ connectionString: adminUrlFor(entry.database!) })
    await client.connect()
    try {
      await client.query(insert('public.tenants'), [entry.tenantId, entry.name])
    } finally {
      await client.end()
    }
  }
}

/** Deprovisions the tenants: directory entries, then schemas and roles, then databases. */
export async function dropExampleTenants(adminUrl: string, tenantIds: readonly string[]): Promise<void> {
  const admin = new pg.Pool({ connectionString: adminUrl, max: 1 })
  admin.on('error', () => undefined)
  try {
    for (const id of tenantIds) await dropTenant(admin, id)
  } finally {
    await admin.end()
  }
}
