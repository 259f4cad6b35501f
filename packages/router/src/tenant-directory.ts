import { TenantScopeError } from '@tenantscope/core'
import { type TenantEntry, validateEntry } from './directory-entry.js'

/** Looks tenants up. `undefined` means unknown: the router refuses, never falls back. */
export type TenantLookup = (tenantId: string) => Promise<TenantEntry | undefined> | TenantEntry | undefined

export interface TenantDirectoryOptions {
  /**
   * How long an entry (or the fact that a tenant is unknown) is kept before
   * it is looked up again. The backstop for a missed notification.
   * @default 30_000
   */
  ttlMillis?: number
}

/**
 * @internal A version of an entry (a table directory's `updated_at`, as
 * epoch microseconds), set by a lookup as a non-enumerable property of the
 * entry it returns: an instance's acknowledgement of a change echoes it.
 */
export const ENTRY_VERSION = Symbol.for('tenantscope:entryVersion')

interface Cached {
  readonly entry: TenantEntry | undefined
  readonly expires: number
}

/**
 * Where each tenant lives, cached in memory so that a query costs no extra
 * round trip. `invalidate(id)` (called for every NOTIFY by a table
 * directory's listener) drops an entry; the TTL catches what a notification missed.
 */
export class TenantDirectory {
  readonly #lookup: TenantLookup
  readonly #ttl: number
  readonly #cache = new Map<string, Cached>()
  // One lookup in flight per tenant, however many queries wait on it.
  readonly #loading = new Map<string, Promise<TenantEntry | undefined>>()
  #generation = 0
  // While a listening directory's connection is down, nothing is kept: a change would not be announced.
  #uncached = false
  readonly #versions = new WeakMap<TenantEntry, string>()
  #closers: Array<() => Promise<void>> = []
  #drains: Array<(tenantId: string) => Promise<void>> = []

  constructor(lookup: TenantLookup, options: TenantDirectoryOptions = {}) {
    if (typeof lookup !== 'function') throw new TenantScopeError('INVALID_CONFIG', 'A tenant directory needs a lookup function')
    const ttl = options.ttlMillis ?? 30_000
    if (!(ttl >= 0)) throw new TenantScopeError('INVALID_CONFIG', 'ttlMillis must be a number ≥ 0')
    this.#lookup = lookup
    this.#ttl = ttl
  }

  /** The cached entry when it is fresh, without waiting; `null` when it must be looked up. */
  peek(tenantId: string): TenantEntry | undefined | null {
    const cached = this.#cache.get(tenantId)
    if (cached === undefined || cached.expires <= Date.now()) return null
    return cached.entry
  }

  /** The tenant's entry, from the cache or looked up once. */
  get(tenantId: string): Promise<TenantEntry | undefined> {
    const fresh = this.peek(tenantId)
    if (fresh !== null) return Promise.resolve(fresh)
    let loading = this.#loading.get(tenantId)
    if (loading === undefined) {
      const generation = this.#generation
      loading = Promise.resolve()
        .then(() => this.#lookup(tenantId))
        .then((found) => {
          const entry = found === undefined || found === null ? undefined : validateEntry(found)
          const version = (found as { [ENTRY_VERSION]?: unknown } | undefined)?.[ENTRY_VERSION]
          if (entry !== undefined && typeof version === 'string') this.#versions.set(entry, version)
          if (entry !== undefined && entry.tenantId !== tenantId) {
            throw new TenantScopeError('INVALID_CONFIG', 'The directory answered with an entry for another tenant')
          }
          // An invalidation during the lookup: the answer may be stale, use it once but keep nothing.
          if (generation === this.#generation && !this.#uncached) this.#cache.set(tenantId, { entry, expires: Date.now() + this.#ttl })
          return entry
        })
        .finally(() => this.#loading.delete(tenantId))
      this.#loading.set(tenantId, loading)
    }
    return loading
  }

  /** Drops one tenant's cached entry (or all of them): the next query looks it up again. */
  invalidate(tenantId?: string): void {
    this.#generation++
    if (tenantId === undefined) this.#cache.clear()
    else this.#cache.delete(tenantId)
  }

  /**
   * @internal Stops keeping entries (every one dropped) until called again
   * with false: a listening directory's connection is down, so the TTL
   * would hide a change nobody announced.
   */
  suspendCache(suspended: boolean): void {
    this.#uncached = suspended
    this.invalidate()
  }

  /** @internal The version its lookup gave an entry (see ENTRY_VERSION), if any. */
  versionOf(entry: TenantEntry | undefined): string | undefined {
    return entry === undefined ? undefined : this.#versions.get(entry)
  }

  /** @internal A router's wait for its writable statements of a tenant whose entry changed; returns its removal. */
  onDrain(drain: (tenantId: string) => Promise<void>): () => void {
    this.#drains.push(drain)
    return () => {
      this.#drains = this.#drains.filter((d) => d !== drain)
    }
  }

  /**
   * @internal Called after a change of the tenant's entry was announced and
   * invalidated: the entry as looked up after the change (never the answer
   * of a lookup that began before it), once every router on this directory
   * has finished the writable statements it routed by the old entry. A
   * tenant mover waits for this from every instance (see table-directory).
   */
  async settle(tenantId: string): Promise<TenantEntry | undefined> {
    await this.#loading.get(tenantId)?.catch(() => undefined)
    // Routes resolved by a stale answer count themselves in microtasks: let them run first.
    await new Promise((resolve) => setImmediate(resolve))
    const entry = await this.get(tenantId)
    await Promise.all(this.#drains.map((drain) => drain(tenantId)))
    return entry
  }

  /** @internal Something to stop when the directory closes (a listener). */
  onClose(close: () => Promise<void>): void {
    this.#closers.push(close)
  }

  /** Stops listening for changes. */
  async close(): Promise<void> {
    const closers = this.#closers
    this.#closers = []
    await Promise.all(closers.map((close) => close()))
  }
}

/**
 * A directory supplied by the application: `lookup(tenantId)` returns the
 * entry or `undefined`. Call `directory.invalidate(id)` when an entry changes.
 * @example createTenantDirectory((id) => tenants.get(id))
 */
export function createTenantDirectory(lookup: TenantLookup, options?: TenantDirectoryOptions): TenantDirectory {
  return new TenantDirectory(lookup, options)
}
