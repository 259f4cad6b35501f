import type { Migration } from './migration.js'
import { migrations as tenantscopeMigrations } from './migration.js'

/** Anything with pg's `query(text)`: a pg.Client, a pg.Pool, a PoolClient. */
export interface SqlExecutor {
  query(text: string): Promise<unknown>
}

export interface ApplyMigrationsOptions {
  /** Which migrations to run. @default migrations */
  migrations?: readonly Migration[]
  /**
   * The group role the application's login role is a member of. Roles are
   * cluster-wide: give each application (or database) on a server its own,
   * so that one application's login cannot use another's grants.
   * Lower-case identifier.
   * @default the database's `tenantscope.app_role` setting, else 'tenantscope_app'
   * @example applyMigrations(admin, { appRole: 'billing_app', maintenanceRole: 'billing_maintenance' })
   */
  appRole?: string
  /**
   * The BYPASSRLS group role for migrations and cross-tenant work.
   * @default the database's `tenantscope.maintenance_role` setting, else 'tenantscope_maintenance'
   */
  maintenanceRole?: string
}

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/

/**
 * Runs migrations in order, each in its own transaction. They are idempotent,
 * so running them again is safe. Use a role that may create schemas and roles
 * (the owner or maintenance role), never the application role.
 * @example await applyMigrations(adminPool)
 * @example await applyMigrations(adminPool, { appRole: 'billing_app', maintenanceRole: 'billing_maintenance' })
 */
export async function applyMigrations(
  executor: SqlExecutor,
  migrationsOrOptions: readonly Migration[] | ApplyMigrationsOptions = tenantscopeMigrations,
): Promise<void> {
  const options: ApplyMigrationsOptions = Array.isArray(migrationsOrOptions)
    ? { migrations: migrationsOrOptions as readonly Migration[] }
    : (migrationsOrOptions as ApplyMigrationsOptions)
  const roles = roleSettings(options)
  for (const migration of options.migrations ?? tenantscopeMigrations) {
    await executor.query(`BEGIN;\n${roles}${migration.sql}\nCOMMIT;`).catch(async (error: unknown) => {
      await executor.query('ROLLBACK').catch(() => undefined)
      throw error
    })
  }
}

// SET LOCAL: the names hold for this migration's transaction only. Checked
// against ROLE_NAME first, so they can be written into the text.
function roleSettings(options: ApplyMigrationsOptions): string {
  let text = ''
  for (const [setting, value] of [
    ['tenantscope.app_role', options.appRole],
    ['tenantscope.maintenance_role', options.maintenanceRole],
  ] as const) {
    if (value === undefined) continue
    if (typeof value !== 'string' || !ROLE_NAME.test(value)) {
      const option = setting === 'tenantscope.app_role' ? 'appRole' : 'maintenanceRole'
      throw new TypeError(`applyMigrations: ${option} must be a lower-case identifier`)
    }
    text += `SET LOCAL ${setting} = '${value}';\n`
  }
  return text
}
