import { uuid } from 'drizzle-orm/pg-core'
import { tenantSettingAs } from './_tenant-setting.js'

/**
 * The SQL that reads the current tenant back as a uuid (NULL when unset):
 * `NULLIF(current_setting('app.current_tenant', true), '')::uuid`, what
 * `tenantscope.current_tenant_id()` returns, written out so the planner need
 * not inline a function body.
 */
export const currentTenantId = tenantSettingAs('uuid')

/** The type of `tenantIdColumn()`: a `uuid not null` column with a default. */
export type TenantIdColumn = ReturnType<ReturnType<ReturnType<typeof uuid>['notNull']>['default']>

export interface TenantColumnOptions {
  /**
   * The setting the default reads the tenant from: the `setting` you gave `createTenantPool`.
   * @default 'app.current_tenant'
   */
  setting?: string
}

/**
 * The tenant column: `uuid NOT NULL DEFAULT NULLIF(current_setting('app.current_tenant', true), '')::uuid`
 * (the default `tenantscope.enable_tenant_rls` sets),
 * so inserts need not name the tenant (the default reads the setting, and
 * the policy's WITH CHECK refuses any other value). With `{ setting }` the
 * default reads that setting instead.
 * @example
 * export const projects = pgTable('projects', {
 *   tenantId: tenantIdColumn(),
 *   id: uuid('id').notNull().defaultRandom(),
 * })
 */
export function tenantIdColumn(name = 'tenant_id', options: TenantColumnOptions = {}): TenantIdColumn {
  return uuid(name)
    .notNull()
    .default(options.setting === undefined ? currentTenantId : tenantSettingAs('uuid', options.setting))
}
