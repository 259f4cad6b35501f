import { sql, type SQL } from 'drizzle-orm'

/**
 * @internal The tenant setting read back as `type`, NULL when unset or reset
 * to '' (NULLIF: after a transaction-local set_config the setting reads ''),
 * spelled exactly as `tenantscope.enable_tenant_rls` spells it so both paths
 * give the same catalog. Written out instead of calling
 * tenantscope.current_tenant_id(): PostgreSQL re-parses a LANGUAGE sql body
 * each time it inlines it while planning (~12% of point-read throughput).
 * text needs no cast; `type` comes from the schema definition, never from input.
 */
export function tenantSettingAs(type: string): SQL {
  const setting = sql`NULLIF(current_setting('app.current_tenant', true), '')`
  return type === 'text' ? setting : sql`${setting}::${sql.raw(type)}`
}
