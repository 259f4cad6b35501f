// The catalog module: every query the doctor and the test kit run against pg_catalog.

export { type Catalog, loadCatalog } from './load-catalog.js'
export { type CitusAuditRow, type CitusCatalog, loadCitus } from './load-citus.js'
export { type Constraint, loadConstraints } from './load-constraints.js'
export { loadSecurityDefinerFunctions, type SecurityDefinerFunction } from './load-functions.js'
export { loadPolicies, type Policy, type PolicyFunction } from './load-policies.js'
export { loadRole, type RoleInfo } from './load-role.js'
export { loadTenantTables, type TenantTable } from './load-tables.js'
export { loadViews, type ViewInfo } from './load-views.js'
export { loadReachedDatabases, type OtherDatabases, type ReachedDatabase } from './other-databases.js'
export type { DoctorConnection, DoctorQueryable } from './queryable.js'
export { SYSTEM_SCHEMAS } from './system-schemas.js'
