import { TenantScopeError } from '@tenantscope/core'
import { DEFAULT_TENANT_SETTING, tenantExpression } from '@tenantscope/sql'
import { type SQL, sql } from 'drizzle-orm'

// createTenantPool's rule for the setting's name; a custom setting needs a dot.
const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/

/**
 * @internal The tenant setting read back as `type`, NULL when unset or reset
 * to '', built by @tenantscope/sql's tenantExpression: the same text
 * `tenantscope.enable_tenant_rls` writes, so both paths give the same catalog.
 * `type` comes from the schema definition, never from input; a bad setting
 * name throws INVALID_CONFIG when the schema is defined.
 */
export function tenantSettingAs(type: string, setting: string = DEFAULT_TENANT_SETTING): SQL {
  if (typeof setting !== 'string' || !SETTING_NAME.test(setting)) {
    throw new TenantScopeError('INVALID_CONFIG', 'setting must be a dotted identifier such as app.current_tenant')
  }
  return sql.raw(tenantExpression({ setting, columnType: type }))
}
