import { getTableColumns, type SQL, sql } from 'drizzle-orm'
import { type PgColumn, type PgPolicy, pgPolicy } from 'drizzle-orm/pg-core'
import { entityKindOf } from '../_drizzle-internals.js'
import { tenantSettingAs } from './_tenant-setting.js'

/** The policy name that `tenantscope.enable_tenant_rls` uses; keep it so both paths converge. */
export const TENANT_POLICY_NAME = 'tenantscope_isolation'

export interface TenantPolicyOptions {
  /**
   * The policy's name.
   * @default 'tenantscope_isolation' (the name `tenantscope.enable_tenant_rls` gives it)
   */
  name?: string
  /**
   * The setting the policy reads the tenant from: the `setting` you gave `createTenantPool`.
   * @default 'app.current_tenant'
   */
  setting?: string
}

/**
 * `tenant_id = (SELECT NULLIF(current_setting('app.current_tenant', true), '')::uuid)`
 * on the bare column: no cast on the column side, so the tenant-first index
 * applies, and a sub-select so the setting is read once per statement (an
 * InitPlan). For a column of another type the setting is cast to the
 * column's type (text: no cast), as `tenantscope.enable_tenant_rls` does.
 * `{ setting }` reads another setting than app.current_tenant.
 */
export function tenantCondition(column: PgColumn, options: { setting?: string } = {}): SQL {
  return sql`${column} = (SELECT ${tenantSettingAs(sqlTypeOf(column), options.setting)})`
}

/**
 * The policy `tenantscope.enable_tenant_rls` creates, as a Drizzle
 * `pgPolicy` for drizzle-kit: permissive, for all commands, to public,
 * USING and WITH CHECK on the tenant column. A table with a policy gets
 * `ENABLE ROW LEVEL SECURITY` from drizzle-kit; FORCE it with
 * `forceRowLevelSecurity` (drizzle-kit cannot emit it).
 * @example
 * export const projects = pgTable('projects', { tenantId: tenantIdColumn(), ... },
 *   (t) => [tenantPolicy(t.tenantId), tenantIndex('projects_tenant_idx', t.tenantId)])
 */
export function tenantPolicy(column: PgColumn, options: TenantPolicyOptions = {}): PgPolicy {
  const condition = tenantCondition(column, { setting: options.setting })
  return pgPolicy(options.name ?? TENANT_POLICY_NAME, {
    as: 'permissive',
    for: 'all',
    to: 'public',
    using: condition,
    withCheck: condition,
  })
}

// Inside a table's extra-config callback Drizzle hands out ExtraConfigColumns,
// whose getSQLType() calls itself forever (drizzle-orm 0.45): ask the table's
// real column of the same name instead.
function sqlTypeOf(column: PgColumn): string {
  if (entityKindOf(column) === 'ExtraConfigColumn') {
    const real = Object.values(getTableColumns(column.table)).find((candidate) => candidate.name === column.name)
    if (real) return (real as PgColumn).getSQLType()
  }
  return column.getSQLType()
}
