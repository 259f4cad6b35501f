export type { TenantSql } from './create-tenant-sql.js'
export { createTenantSql, isTenantSql } from './create-tenant-sql.js'
export type { TenantSqlOptions } from './tenant-binding.js'
export { tenantSocket } from './tenant-socket.js'
