import { TenantScopeError } from './errors.js'

/** Caps and weights of one tier of tenants (see {@link FairnessOptions.tiers}). */
export interface TierOptions {
  /**
   * How many turns a tenant of this tier gets each time the fair queue comes
   * round to it, when the pool is saturated. A premium tier with weight 3 is
   * served three times as often as a tier with weight 1.
   * @default 1
   */
  weight?: number
  /** Connections one tenant of this tier may hold at once. */
  maxConnections?: number
  /** Requests one tenant of this tier may have waiting for a connection. */
  maxWaiting?: number
  /** How long a request of this tier may wait for a connection, in milliseconds. */
  maxWaitMs?: number
  /**
   * Per-tenant limits in the database, sent transaction-locally in the same
   * round trip as the tenant (`statement_timeout`, `lock_timeout`,
   * `idle_in_transaction_session_timeout`), in PostgreSQL's units: `'5s'`,
   * `'200ms'`, or a number of milliseconds.
   * @example { statementTimeout: '2s', lockTimeout: '500ms' }
   */
  limits?: DatabaseLimits
}

/** Per-tenant limits enforced by PostgreSQL itself. */
export interface DatabaseLimits {
  statementTimeout?: string | number
  lockTimeout?: string | number
  idleInTransactionSessionTimeout?: string | number
}

/**
 * Fair sharing of the pool's connections between tenants, so that one hot
 * tenant cannot take every connection and starve the others.
 *
 * When every connection is busy, waiting requests are served round-robin
 * across tenants (weighted by tier), not first come first served. A tenant
 * whose queue is full, or whose request waited too long, gets a typed,
 * retryable `TenantOverloadError` (`TENANT_OVERLOADED`) with a retry-after
 * hint; the HTTP helpers answer it with 429 and `Retry-After`.
 * @example
 * createTenantPool(pool, {
 *   fairness: {
 *     maxConnectionsPerTenant: 4,
 *     tierOf: (tenantId) => (premium.has(tenantId) ? 'premium' : 'standard'),
 *     tiers: { premium: { weight: 3, maxConnections: 8 }, standard: { limits: { statementTimeout: '5s' } } },
 *   },
 * })
 */
export interface FairnessOptions extends Omit<TierOptions, 'maxConnections' | 'maxWaiting'> {
  /**
   * Connections one tenant may hold at once.
   * @default the pool's size: no per-tenant cap, only fair ordering
   */
  maxConnectionsPerTenant?: number
  /**
   * Requests one tenant may have waiting; the next one is refused at once.
   * @default 1000
   */
  maxWaitingPerTenant?: number
  /**
   * How long a request may wait for a connection before it is refused.
   * @default 10000
   */
  maxWaitMs?: number
  /** A tenant's tier, by its (parsed) id. Called often: keep it synchronous and cheap. */
  tierOf?: (tenantId: string) => string | undefined
  /** Options per tier name; a tier's options override the defaults above. */
  tiers?: Readonly<Record<string, TierOptions>>
}

/** @internal One tenant's resolved policy. */
export interface TenantPolicy {
  readonly weight: number
  readonly maxConnections: number
  readonly maxWaiting: number
  readonly maxWaitMs: number
  /** Setting entries for the database limits, ready for the setter. */
  readonly limitSettings: readonly (readonly [string, string])[]
}

const LIMIT_SETTINGS: Readonly<Record<keyof DatabaseLimits, string>> = {
  statementTimeout: 'statement_timeout',
  lockTimeout: 'lock_timeout',
  idleInTransactionSessionTimeout: 'idle_in_transaction_session_timeout',
}
// PostgreSQL's duration syntax for these settings: a number with an optional unit.
const DURATION = /^\d{1,9}\s*(us|ms|s|min|h|d)?$/

/**
 * @internal Validates the options once, at construction, and resolves each
 * tenant's policy through its tier (cached per tier name).
 */
export class FairnessPolicy {
  readonly #tierOf: ((tenantId: string) => string | undefined) | undefined
  readonly #defaults: TenantPolicy
  readonly #tiers = new Map<string, TenantPolicy>()

  constructor(options: FairnessOptions, poolSize: number) {
    if (typeof options !== 'object' || options === null) invalid('fairness must be an object')
    if (options.tierOf !== undefined && typeof options.tierOf !== 'function') invalid('fairness.tierOf must be a function')
    this.#tierOf = options.tierOf
    this.#defaults = resolvePolicy(
      {
        weight: options.weight,
        maxConnections: options.maxConnectionsPerTenant ?? poolSize,
        maxWaiting: options.maxWaitingPerTenant ?? 1000,
        maxWaitMs: options.maxWaitMs ?? 10_000,
        limits: options.limits,
      },
      undefined,
      'fairness',
    )
    const tiers = options.tiers ?? {}
    if (typeof tiers !== 'object' || tiers === null) invalid('fairness.tiers must be an object of tier name → options')
    for (const name of Object.keys(tiers)) {
      this.#tiers.set(name, resolvePolicy(tiers[name]!, this.#defaults, `fairness.tiers.${name}`))
    }
  }

  /** The policy of a tenant: its tier's, or the defaults for an unknown or missing tier. */
  of(tenantId: string): TenantPolicy {
    if (this.#tierOf === undefined) return this.#defaults
    const tier = this.#tierOf(tenantId)
    return (tier !== undefined && this.#tiers.get(tier)) || this.#defaults
  }
}

function resolvePolicy(options: TierOptions, base: TenantPolicy | undefined, where: string): TenantPolicy {
  if (typeof options !== 'object' || options === null) invalid(`${where} must be an object`)
  const weight = positiveInteger(options.weight, base?.weight ?? 1, `${where}.weight`)
  const maxConnections = positiveInteger(options.maxConnections, base?.maxConnections, `${where}.maxConnections`)
  const maxWaiting = positiveInteger(options.maxWaiting, base?.maxWaiting, `${where}.maxWaiting`, 0)
  const maxWaitMs = positiveInteger(options.maxWaitMs, base?.maxWaitMs, `${where}.maxWaitMs`)
  const limitSettings = options.limits === undefined ? (base?.limitSettings ?? []) : resolveLimits(options.limits, `${where}.limits`)
  return { weight, maxConnections, maxWaiting, maxWaitMs, limitSettings }
}

function resolveLimits(limits: DatabaseLimits, where: string): [string, string][] {
  if (typeof limits !== 'object' || limits === null) invalid(`${where} must be an object`)
  const entries: [string, string][] = []
  for (const key of Object.keys(limits) as (keyof DatabaseLimits)[]) {
    const setting = Object.hasOwn(LIMIT_SETTINGS, key) ? LIMIT_SETTINGS[key] : undefined
    if (setting === undefined)
      invalid(`${where}.${key} is not a known limit (statementTimeout, lockTimeout, idleInTransactionSessionTimeout)`)
    const value = limits[key]
    if (value === undefined) continue
    const text = typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? String(value) : value
    if (typeof text !== 'string' || !DURATION.test(text))
      invalid(`${where}.${key} must be a duration such as '5s', '200ms' or a number of milliseconds`)
    entries.push([setting, text])
  }
  return entries
}

function positiveInteger(value: unknown, fallback: number | undefined, where: string, min = 1): number {
  if (value === undefined) {
    if (fallback === undefined) invalid(`${where} is required`)
    return fallback
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) invalid(`${where} must be an integer ≥ ${min}`)
  return value
}

function invalid(message: string): never {
  throw new TenantScopeError('INVALID_CONFIG', message)
}
