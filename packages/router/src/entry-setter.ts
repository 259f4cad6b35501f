import { type SettingEntry, setConfigSetter, TenantScopeError, type TenantSetter } from '@tenantscope/core'
import pg from 'pg'
import type { TenantEntry } from './directory-entry.js'

// What the router decides for every tenant it serves: extra settings from
// withTenant may not override them (a pool tenant given `role` could
// otherwise take a schema tenant's role).
const ROUTER_OWNED = new Set(['role', 'search_path', 'transaction_read_only', 'default_transaction_read_only', 'session_authorization'])

/**
 * @internal The setter of every pool behind the router: the tenant's own
 * settings, then what its entry adds, all transaction-local and in the same
 * round trip as the statement:
 * - schema: `search_path` to the tenant's schema and `role` to the tenant's
 *   role (SET LOCAL ROLE), whose privileges reach that schema only;
 * - read_only and moving: `transaction_read_only`, so a write fails in the database.
 * `entryOf` answers from the router's resolved entries (looked up before the
 * statement is handed to the pool); none means refuse.
 */
export function entrySetter(entryOf: (tenantId: string) => TenantEntry | undefined, base: TenantSetter = setConfigSetter): TenantSetter {
  return (settings) => {
    const tenantId = settings[0]?.[1]
    const entry = tenantId === undefined ? undefined : entryOf(tenantId)
    if (entry === undefined) throw new TenantScopeError('TENANT_UNKNOWN', 'The tenant has no directory entry')
    for (let i = 1; i < settings.length; i++) {
      const name = settings[i]![0]
      if (ROUTER_OWNED.has(name.toLowerCase())) {
        throw new TenantScopeError('INVALID_SETTING', `${name} is set by the router and cannot be given as a setting`)
      }
    }
    const extra: SettingEntry[] = []
    if (entry.strategy === 'schema') extra.push(['search_path', pg.escapeIdentifier(entry.schema!)], ['role', entry.role!])
    // A moving tenant's reads go on from where it was; the database refuses its writes.
    if (entry.state === 'read_only' || entry.state === 'moving') extra.push(['transaction_read_only', 'on'])
    return extra.length === 0 ? base(settings) : base([...settings, ...extra])
  }
}
