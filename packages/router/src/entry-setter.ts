import { setConfigSetter, TenantScopeError, type SettingEntry, type TenantSetter } from '@tenantscope/core'
import pg from 'pg'
import type { TenantEntry } from './directory-entry.js'

/**
 * @internal The setter of every pool behind the router: the tenant's own
 * settings, then what its entry adds, all transaction-local and in the same
 * round trip as the statement:
 * - schema: `search_path` to the tenant's schema and `role` to the tenant's
 *   role (SET LOCAL ROLE), whose privileges reach that schema only;
 * - read_only: `transaction_read_only`, so a write fails in the database.
 * `entryOf` answers from the router's resolved entries (looked up before the
 * statement is handed to the pool); none means refuse.
 */
export function entrySetter(entryOf: (tenantId: string) => TenantEntry | undefined, base: TenantSetter = setConfigSetter): TenantSetter {
  return (settings) => {
    const tenantId = settings[0]?.[1]
    const entry = tenantId === undefined ? undefined : entryOf(tenantId)
    if (entry === undefined) throw new TenantScopeError('TENANT_UNKNOWN', 'The tenant has no directory entry')
    const extra: SettingEntry[] = []
    if (entry.strategy === 'schema') extra.push(['search_path', pg.escapeIdentifier(entry.schema!)], ['role', entry.role!])
    if (entry.state === 'read_only') extra.push(['transaction_read_only', 'on'])
    if (extra.length === 0) return base(settings)
    for (const [name] of settings) {
      const lower = name.toLowerCase()
      if (extra.some(([own]) => own === lower)) {
        throw new TenantScopeError('INVALID_SETTING', `${name} is set by the router for this tenant and cannot be given as a setting`)
      }
    }
    return base([...settings, ...extra])
  }
}
