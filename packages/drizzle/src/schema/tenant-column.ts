import { sql } from 'drizzle-orm'
import { uuid } from 'drizzle-orm/pg-core'

/** The SQL that reads the current tenant back as a uuid (NULL when unset), from @tenantscope/sql. */
export const currentTenantId = sql`tenantscope.current_tenant_id()`

/** The type of `tenantIdColumn()`: a `uuid not null` column with a default. */
export type TenantIdColumn = ReturnType<ReturnType<ReturnType<typeof uuid>['notNull']>['default']>

/**
 * The tenant column: `uuid NOT NULL DEFAULT tenantscope.current_tenant_id()`,
 * so inserts need not name the tenant (the default reads the setting, and
 * the policy's WITH CHECK refuses any other value).
 * @example
 * export const projects = pgTable('projects', {
 *   tenantId: tenantIdColumn(),
 *   id: uuid('id').notNull().defaultRandom(),
 * })
 */
export function tenantIdColumn(name = 'tenant_id'): TenantIdColumn {
  return uuid(name).notNull().default(currentTenantId)
}
