import {
  createTenantPool,
  getTenantId,
  type TenantIdParser,
  TenantPool,
  type TenantPoolClient,
  type TenantPoolOptions,
  TenantScopeError,
  type TransactionOptions,
  uuidTenantId,
} from '@tenantscope/core'
import type pg from 'pg'
import { DatabasePools, type DatabasePoolsOptions } from './database-pools.js'
import type { TenantEntry } from './directory-entry.js'
import { entrySetter } from './entry-setter.js'
import { refusal, refuseReadOnlyWrites, refusesWrites } from './read-only-refusal.js'
import type { TenantDirectory } from './tenant-directory.js'

export interface TenantRouterOptions extends Omit<TenantPoolOptions, 'setter'> {
  /** Where each tenant lives. */
  directory: TenantDirectory
  /**
   * The primary database: `pool` tenants (shared schema + RLS) and `schema`
   * tenants without a region. A pg.Pool or its config, as the app role.
   */
  pool: pg.Pool | pg.PoolConfig
  /**
   * One pool per region for `pool` and `schema` tenants pinned to a region
   * (their entry's `region`). A tenant is only ever sent to its region's pool.
   * @example { eu: { connectionString: EU_URL }, us: { connectionString: US_URL } }
   */
  regions?: Record<string, pg.Pool | pg.PoolConfig>
  /** `database` tenants: credentials resolver, the cap across their pools, idle close. */
  databases?: DatabasePoolsOptions
  /** The setter the router extends (search_path, role, read-only). @default setConfigSetter */
  setter?: TenantPoolOptions['setter']
}

interface Route {
  readonly id: string
  readonly entry: TenantEntry
  readonly pool: TenantPool
  release(): void
}

const noop = () => undefined

/**
 * A pool that sends each tenant's statements where the directory says the
 * tenant lives, with one `withTenant` for every strategy. It is a TenantPool
 * (so a pg.Pool: Drizzle checks `instanceof pg.Pool`, and tenantDrizzle takes
 * it as already scoped) whose query, connect and transaction route per call;
 * `unscopedPool` and the counts are the primary pool's.
 */
export class TenantRouter extends TenantPool {
  readonly #directory: TenantDirectory
  readonly #parse: TenantIdParser
  readonly #primary: TenantPool
  readonly #regions = new Map<string, TenantPool>()
  readonly #databases: DatabasePools | undefined
  // The entry each tenant was last routed with: the pools' setter reads it
  // synchronously while the statement is being sent.
  readonly #routed: Map<string, TenantEntry>
  // Writable (active) routes not yet released, per tenant, and who waits for them to end.
  readonly #writable = new Map<string, number>()
  readonly #drained = new Map<string, Array<() => void>>()
  readonly #stopDraining: () => void

  /** @internal Use createTenantRouter(). */
  constructor(options: TenantRouterOptions) {
    if (options?.directory === undefined) throw new TenantScopeError('INVALID_CONFIG', 'createTenantRouter needs a directory')
    const routed = new Map<string, TenantEntry>()
    const parseTenantId = options.parseTenantId ?? uuidTenantId
    const scope: TenantPoolOptions = {
      setting: options.setting,
      prepareSetter: options.prepareSetter,
      parseTenantId,
      setter: entrySetter((id) => routed.get(id), options.setter),
    }
    const primary = createTenantPool(options.pool, scope)
    // The router's own TenantPool state wraps the primary pg.Pool (events, counts, idle errors).
    super(primary.unscopedPool, scope)
    this.#routed = routed
    this.#directory = options.directory
    this.#parse = parseTenantId
    this.#primary = primary
    for (const [region, pool] of Object.entries(options.regions ?? {})) {
      const regional = createTenantPool(pool, scope)
      regional.on('error', (error: Error) => this.emit('error', error))
      this.#regions.set(region, regional)
    }
    this.#databases = options.databases ? new DatabasePools(options.databases, scope) : undefined
    this.#stopDraining = options.directory.onDrain((tenantId) => this.#drain(tenantId))
  }

  get directory(): TenantDirectory {
    return this.#directory
  }

  /** Connections reserved by database tenants' pools (never above `databases.maxConnections`). */
  get databaseConnections(): number {
    return this.#databases?.reservedConnections ?? 0
  }

  /** The current tenant's directory entry (looked up if not cached). */
  async currentEntry(): Promise<TenantEntry> {
    return (await this.#resolve()).entry
  }

  // pg.Pool's own overloads, so a router is assignable wherever a pg.Pool is
  // typed (drizzle(router)). On the class, not on a merged interface: merged,
  // the any-typed implementation signature would come first.
  override query<T extends pg.Submittable>(queryStream: T): T
  override query<R extends any[] = any[], I = any[]>(
    queryConfig: pg.QueryArrayConfig<I>,
    values?: pg.QueryConfigValues<I>,
  ): Promise<pg.QueryArrayResult<R>>
  override query<R extends pg.QueryResultRow = any, I = any[]>(queryConfig: pg.QueryConfig<I>): Promise<pg.QueryResult<R>>
  override query<R extends pg.QueryResultRow = any, I = any[]>(
    queryTextOrConfig: string | pg.QueryConfig<I>,
    values?: pg.QueryConfigValues<I>,
  ): Promise<pg.QueryResult<R>>
  override query<R extends any[] = any[], I = any[]>(
    queryConfig: pg.QueryArrayConfig<I>,
    callback: (err: Error, result: pg.QueryArrayResult<R>) => void,
  ): void
  override query<R extends pg.QueryResultRow = any, I = any[]>(
    queryTextOrConfig: string | pg.QueryConfig<I>,
    callback: (err: Error, result: pg.QueryResult<R>) => void,
  ): void
  override query<R extends pg.QueryResultRow = any, I = any[]>(
    queryText: string,
    values: pg.QueryConfigValues<I>,
    callback: (err: Error, result: pg.QueryResult<R>) => void,
  ): void
  /** Runs one statement for the current tenant, wherever it lives, in one round trip. */
  override query(input: any, values?: any, callback?: any): any {
    if (typeof values === 'function') {
      callback = values
      values = undefined
    }
    if (typeof (input as { submit?: unknown })?.submit === 'function') {
      throw new TypeError('router.query does not take a query object such as a cursor: use router.connect() and client.query()')
    }
    const promise = this.#route().then((route) =>
      this.#bind(route)
        .query(input, values)
        .then(
          (result) => {
            route.release()
            return result
          },
          (error: unknown) => {
            route.release()
            throw refusal(route.entry, error)
          },
        ),
    )
    if (!callback) return promise
    promise.then(
      (result) => callback(null, result),
      (error: Error) => callback(error),
    )
  }

  override connect(): Promise<TenantPoolClient & pg.PoolClient>
  override connect(
    callback: (err: Error | undefined, client: (TenantPoolClient & pg.PoolClient) | undefined, done: (release?: any) => void) => void,
  ): void
  /** Checks out a connection bound to the current tenant, from the pool where it lives. */
  override connect(callback?: any): any {
    const promise = this.#route().then(async (route) => {
      let client: TenantPoolClient & pg.PoolClient
      try {
        client = (await this.#bind(route).connect()) as TenantPoolClient & pg.PoolClient
      } catch (error) {
        route.release()
        throw error
      }
      // The entry it was checked out by, or the live one: the connection's
      // setter reads the live entry at each statement, so either may have made it read-only.
      refuseReadOnlyWrites(client, () => [route.entry, this.#routed.get(route.id)].find(refusesWrites))
      const release = client.release.bind(client)
      client.release = ((error?: Error | boolean) => {
        try {
          return release(error)
        } finally {
          route.release()
        }
      }) as typeof client.release
      return client
    })
    if (!callback) return promise
    promise.then(
      (client) => callback(undefined, client, (release?: unknown) => client.release(release as Error)),
      (error: Error) => callback(error),
    )
  }

  /** Runs `fn` in one transaction for the current tenant, wherever it lives. */
  override async transaction<T>(fn: (client: TenantPoolClient) => Promise<T> | T, options?: TransactionOptions): Promise<T> {
    const route = await this.#route()
    try {
      return await this.#bind(route).transaction(fn, options)
    } catch (error) {
      throw refusal(route.entry, error)
    } finally {
      route.release()
    }
  }

  override end(callback?: () => void): any {
    // A directory shared with other routers no longer waits for this one.
    this.#stopDraining()
    const ended = Promise.all([
      this.#primary.end(),
      ...[...this.#regions.values()].map((pool) => pool.end()),
      this.#databases?.end(),
      this.#directory.close(),
    ]).then(noop)
    if (!callback) return ended
    ended.then(callback, callback)
  }

  async #resolve(): Promise<{ id: string; entry: TenantEntry }> {
    const id = parseId(this.#parse, getTenantId())
    const cached = this.#directory.peek(id)
    const entry = cached === null ? await this.#directory.get(id) : cached
    if (entry === undefined) throw new TenantScopeError('TENANT_UNKNOWN', 'The tenant has no directory entry')
    if (entry.state === 'suspended') {
      throw new TenantScopeError('TENANT_UNAVAILABLE', `The tenant is ${entry.state}: retry later`)
    }
    return { id, entry }
  }

  // Called right before the statement is handed to the pool, which builds
  // its setter synchronously: the setter sees the entry this call was routed by.
  #bind(route: Route): TenantPool {
    this.#routed.set(route.id, route.entry)
    return route.pool
  }

  async #route(): Promise<Route> {
    const { id, entry } = await this.#resolve()
    // Counted in the same microtask the entry arrives in: a directory's settle() then sees it.
    const untrack = this.#track(id, entry)
    try {
      if (entry.strategy === 'database') {
        if (this.#databases === undefined) {
          throw new TenantScopeError('INVALID_CONFIG', 'A database tenant, but the router has no databases option')
        }
        const lease = await this.#databases.acquire(entry)
        return { id, entry, pool: lease.pool, release: () => (lease.release(), untrack()) }
      }
      const pool = entry.region === undefined ? this.#primary : this.#regions.get(entry.region)
      // Never a fallback to another region's (or the primary) pool.
      if (pool === undefined) throw new TenantScopeError('INVALID_CONFIG', 'The tenant is pinned to a region the router has no pool for')
      return { id, entry, pool, release: untrack }
    } catch (error) {
      untrack()
      throw error
    }
  }

  // Only routes that may write are counted: a frozen (moving) tenant's mover waits for them.
  #track(id: string, entry: TenantEntry): () => void {
    if (entry.state !== 'active') return noop
    this.#writable.set(id, (this.#writable.get(id) ?? 0) + 1)
    let done = false
    return () => {
      if (done) return
      done = true
      const left = this.#writable.get(id)! - 1
      if (left > 0) {
        this.#writable.set(id, left)
        return
      }
      this.#writable.delete(id)
      const waiters = this.#drained.get(id)
      this.#drained.delete(id)
      for (const wake of waiters ?? []) wake()
    }
  }

  // Resolves once no writable route of the tenant is in flight.
  #drain(tenantId: string): Promise<void> {
    if (!this.#writable.has(tenantId)) return Promise.resolve()
    return new Promise((resolve) => {
      const waiters = this.#drained.get(tenantId) ?? []
      waiters.push(resolve)
      this.#drained.set(tenantId, waiters)
    })
  }
}

// As TenantPool does: the directory is only asked about ids the parser accepts.
function parseId(parse: TenantIdParser, raw: string): string {
  let parsed: unknown
  try {
    parsed = parse(raw)
  } catch {
    // No cause: a custom parser's message may well repeat the id.
    throw new TenantScopeError('INVALID_TENANT_ID', 'Tenant id was rejected by parseTenantId')
  }
  if (typeof parsed !== 'string' || parsed.length === 0) {
    throw new TenantScopeError('INVALID_TENANT_ID', 'parseTenantId must return a non-empty string')
  }
  return parsed
}

/**
 * A pool-shaped router over every tenancy strategy: use it wherever a
 * TenantPool goes (`withTenant`, `router.query`, `router.transaction`,
 * `tenantDrizzle(drizzle(router))`).
 * @example const router = createTenantRouter({ directory, pool: { connectionString }, databases: { connectionFor } })
 */
export function createTenantRouter(options: TenantRouterOptions): TenantRouter {
  return new TenantRouter(options)
}
