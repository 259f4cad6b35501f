import { TenantScopeError } from '@tenantscope/core'

/** How a tenant's data is kept. */
export type TenantStrategy = 'pool' | 'schema' | 'database'

/**
 * `active`: served. `read_only`: reads served, writes refused (`TENANT_READ_ONLY`).
 * `moving`: reads served, writes refused with `TENANT_UNAVAILABLE` (retry later).
 * `suspended`: nothing sent, `TENANT_UNAVAILABLE` (retry later).
 */
export type TenantState = 'active' | 'read_only' | 'moving' | 'suspended'

/** Where one tenant lives. */
export interface TenantEntry {
  readonly tenantId: string
  readonly strategy: TenantStrategy
  /** `schema`: the tenant's schema. */
  readonly schema?: string | undefined
  /** `schema`: the NOLOGIN role made current for the tenant's statements (privileges on its schema only). */
  readonly role?: string | undefined
  /** `database`: the key the application's `connectionFor` resolves to credentials. */
  readonly database?: string | undefined
  /** The region whose pool serves the tenant (`pool` and `schema`); unset means the primary pool. */
  readonly region?: string | undefined
  readonly state: TenantState
}

const STRATEGIES = new Set(['pool', 'schema', 'database'])
const STATES = new Set(['active', 'read_only', 'moving', 'suspended'])
// Lower-case identifiers that never need quoting: they are spliced into
// GRANT and CREATE statements and sent as search_path/role values.
const NAME = /^[a-z_][a-z0-9_]{0,62}$/

/** @internal */
export function isPlainName(name: unknown): name is string {
  return typeof name === 'string' && NAME.test(name)
}

/** Checks an entry from a table or the application's function; throws INVALID_CONFIG. */
export function validateEntry(entry: TenantEntry): TenantEntry {
  const bad = (why: string) => new TenantScopeError('INVALID_CONFIG', `Invalid tenant directory entry: ${why}`)
  if (typeof entry !== 'object' || entry === null) throw bad('not an object')
  if (!STRATEGIES.has(entry.strategy)) throw bad('strategy must be pool, schema or database')
  if (!STATES.has(entry.state)) throw bad('state must be active, read_only, moving or suspended')
  if (entry.strategy === 'schema' && !(isPlainName(entry.schema) && isPlainName(entry.role))) {
    throw bad('a schema tenant needs schema and role names (lower-case identifiers)')
  }
  if (entry.strategy === 'database' && (typeof entry.database !== 'string' || entry.database.length === 0)) {
    throw bad('a database tenant needs a database key')
  }
  return Object.freeze({ ...entry })
}
