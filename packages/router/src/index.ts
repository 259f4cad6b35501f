export type { ConnectionResolver, DatabasePoolsOptions } from './database-pools.js'
export type { TenantEntry, TenantState, TenantStrategy } from './directory-entry.js'
export { validateEntry } from './directory-entry.js'
export type { MigrationTarget, TargetResult } from './migrate-target.js'
export type { MigrateSummary, MigrateTenantsOptions, TargetPlace } from './migrate-tenants.js'
export { migrateTenants } from './migrate-tenants.js'
export type { MigrationFile } from './migration-files.js'
export { migrationFrom, readMigrationsFolder } from './migration-files.js'
export type { CreateTenantOptions, DropTenantOptions, PlacementOptions } from './provisioning.js'
export { createTenant, DEFAULT_GATE_ROLE, dropTenant, listTenants, provisionPlacement, setTenantState } from './provisioning.js'
export type { TableDirectoryOptions } from './table-directory.js'
export {
  createTableDirectory,
  DIRECTORY_ACK_CHANNEL,
  DIRECTORY_CHANNEL,
  ENTRY_VERSION_SQL,
  LISTENER_APPLICATION_NAME,
} from './table-directory.js'
export type { CommandIO } from './tenant-command.js'
export { tenantDirectoryCommand } from './tenant-command.js'
export type { TenantDirectoryOptions, TenantLookup } from './tenant-directory.js'
export { createTenantDirectory, TenantDirectory } from './tenant-directory.js'
export type { TenantRollupOptions } from './tenant-rollup.js'
export { createTenantRollup, refreshTenantRollup } from './tenant-rollup.js'
export type { TenantRouterOptions } from './tenant-router.js'
export { createTenantRouter, TenantRouter } from './tenant-router.js'
