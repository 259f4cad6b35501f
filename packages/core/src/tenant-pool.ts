import type { EventEmitter } from 'node:events'
import pg from 'pg'
import { isRecord, ownValue } from './_options.js'
import { type ActivityTagOption, activityTagger } from './activity-tag.js'
import { trackConnection } from './connection-state.js'
import { getTenantContext, runOutsideTenant, type TenantContext } from './context.js'
import { TenantScopeError } from './errors.js'
import { FairAdmission, type Permit, type TenantAdmissionStats } from './fair-admission.js'
import { type FairnessOptions, FairnessPolicy } from './fairness-options.js'
import { toPgPool } from './pool-config.js'
import { PoolQuery } from './pool-query.js'
import { type PrepareStatementsOption, preparedStatementsFrom } from './prepared-statements.js'
import type { QueryInput, RunOptions } from './run-query.js'
import type { SetterStatement, SettingEntry } from './setter.js'
import { TenantPoolClient } from './tenant-client.js'
import { type ResolvedTenant, TenantScope, type TenantScopeOptions } from './tenant-scope.js'
import { type TenantStatementStats, TenantStats } from './tenant-stats.js'
import { beginStatement, type TransactionOptions } from './transaction-options.js'

export interface TenantPoolOptions extends TenantScopeOptions {
  /**
   * Shares the pool's connections fairly between tenants: per-tenant caps,
   * a round-robin queue when the pool is saturated, tiers with weights and
   * per-tenant database timeouts, and a typed, retryable TENANT_OVERLOADED
   * instead of an endless wait. Off by default (first come, first served).
   * @example createTenantPool(pool, { fairness: { maxConnectionsPerTenant: 3, maxWaitMs: 2000 } })
   */
  fairness?: FairnessOptions
  /**
   * Shows the tenant a statement serves in `pg_stat_activity`: its
   * `application_name` becomes `<your application_name> tenant:<id>` for the
   * statement (or transaction) only, set with `set_config(..., true)` in the
   * same round trip as the tenant, and back to yours after it. `'sha256'`
   * shows a digest instead of the id; a function shows what it returns
   * (printable ASCII; PostgreSQL keeps 63 bytes). Costs the server a little
   * per statement (see docs/benchmarks.md); safe behind PgBouncer.
   * @default false
   * @example createTenantPool(pool, { activityTag: 'sha256' })
   */
  activityTag?: ActivityTagOption
  /**
   * Count statements and errors (by SQLSTATE) per tenant, for
   * `pool.stats().statements` and `observeTenantPool()`. One map lookup per
   * statement; memory grows with the number of distinct tenants served.
   * @default false
   */
  stats?: boolean
  /**
   * Prepare the statements of `pool.query` once per server connection, as
   * named statements, instead of parsing and planning them on every call:
   * about half the server's CPU on a point read. Statements are named by a
   * hash of their text; each connection holds at most `max` (default 100),
   * the least recently used one is closed on the server when a new one
   * comes. Only single SELECT, INSERT, UPDATE, DELETE, MERGE, WITH, VALUES
   * and TABLE statements are named: DDL, utility statements and scripts go
   * unnamed, and so does every statement inside a transaction
   * (`pool.connect()`, `pool.transaction`). In Citus mode (`citus: true`)
   * the statement of `pool.query` is named inside its BEGIN/COMMIT, and
   * Citus keeps its routed plan (see docs/citus.md).
   *
   * A named statement that fails before it runs (the server lost it behind
   * PgBouncer before 1.21, or a table changed shape: `cached plan must not
   * change result type`) is sent again unnamed, in the same call. Safe with
   * PgBouncer 1.21+ `max_prepared_statements`. See the README.
   * @default false
   * @example createTenantPool(pool, { prepareStatements: { max: 200 } })
   */
  prepareStatements?: PrepareStatementsOption
}

/** What `pool.stats()` reports. */
export interface TenantPoolStats {
  /** The wrapped pg.Pool's connections: open, idle, and callers waiting inside pg.Pool. */
  totalCount: number
  idleCount: number
  waitingCount: number
  /** The fair queue's figures, when `fairness` is set. */
  fairness?: {
    /** Connections the fair queue hands out at most at once (the pool's `max`). */
    capacity: number
    inUse: number
    waiting: number
    tenants: Record<string, TenantAdmissionStats>
  }
  /** Statements and errors per tenant, when `stats: true`. */
  statements?: Record<string, TenantStatementStats>
}

const POOL_EVENTS = ['connect', 'acquire', 'release', 'remove'] as const
// Options the pool reads itself; the others are TenantScope's.
const POOL_OPTIONS = new Set(['fairness', 'activityTag', 'stats', 'prepareStatements'])

/**
 * A pg.Pool whose every statement runs for the current tenant.
 *
 * It is a real `pg.Pool` subclass so that drivers which test
 * `instanceof pg.Pool` (Drizzle's node-postgres session does, to decide
 * whether a transaction needs its own connection) treat it as one. The
 * connections come from the wrapped pool; this object's own pg.Pool state
 * stays empty and unused.
 */
export class TenantPool extends pg.Pool {
  readonly #pool: pg.Pool
  readonly #scope: TenantScope
  readonly #admission: FairAdmission | undefined
  readonly #stats: TenantStats | undefined
  /** pool.query's options for sendQuery, built once. */
  readonly #runOptions: RunOptions
  /** The 'newListener' hook that forwards the wrapped pool's events (forwardPoolEvents). */
  readonly #forwardOnListen: (event: string | symbol) => void

  // Live values of the wrapped pool (pg.Pool declares them as fields).
  declare readonly totalCount: number
  declare readonly idleCount: number
  declare readonly waitingCount: number
  declare readonly expiredCount: number

  /** @internal Use createTenantPool(). */
  constructor(pool: pg.Pool, options: TenantPoolOptions = {}) {
    super()
    this.#pool = pool
    // The pool's own options; the rest are the scope's (checked there). Own properties only.
    // Anything but an object is refused there too (INVALID_CONFIG).
    if (!isRecord(options)) new TenantScope(options as never)
    const given: object = options
    const fairness = ownValue(given, 'fairness') as FairnessOptions | undefined
    const activityTag = (ownValue(given, 'activityTag') ?? false) as ActivityTagOption
    const stats = ownValue(given, 'stats') ?? false
    const scopeOptions = Object.fromEntries(Object.entries(given).filter(([key]) => !POOL_OPTIONS.has(key)))
    if (typeof stats !== 'boolean') throw new TenantScopeError('INVALID_CONFIG', 'TenantPool: stats must be true or false')
    this.#stats = stats ? new TenantStats() : undefined
    // pg.Pool's default size is 10.
    const capacity = pool.options?.max ?? 10
    const policy = fairness === undefined ? undefined : new FairnessPolicy(fairness, capacity)
    const tag = activityTagger(activityTag, pool.options?.application_name)
    this.#scope = new TenantScope(scopeOptions, extraSettingsOf(policy, tag))
    this.#admission = policy && new FairAdmission(policy, capacity)
    const statements = preparedStatementsFrom(ownValue(given, 'prepareStatements'))
    this.#runOptions = {
      prepared: this.#scope.preparedSetters,
      citus: this.#scope.citus,
      statements,
    }
    // pg.Pool's constructor wrote its own copies; point them at the wrapped pool.
    Object.defineProperties(this, {
      options: { get: () => this.#pool.options, configurable: true },
      ending: { get: () => this.#pool.ending, configurable: true },
      ended: { get: () => this.#pool.ended, configurable: true },
    })
    this.#forwardOnListen = forwardPoolEvents(pool, this)
    forwardIdleErrors(pool, this)
  }

  // The wrapped pool's events reach this pool's listeners through a
  // 'newListener' hook: removing every listener (or every 'newListener' one)
  // keeps it, or a listener added afterwards would never hear its event. The
  // forwarders already on the wrapped pool stay, and are not added again.
  override removeAllListeners(event?: string | symbol): this {
    // Node's EventEmitter removes every event only when called with no argument.
    if (event === undefined) super.removeAllListeners()
    else super.removeAllListeners(event)
    if (event === undefined || event === 'newListener') (this as EventEmitter).on('newListener', this.#forwardOnListen)
    return this
  }

  /** The wrapped pg.Pool. Queries on it are NOT tenant-scoped. */
  get unscopedPool(): pg.Pool {
    return this.#pool
  }

  // pg.Pool's own overloads, so a TenantPool is assignable wherever a pg.Pool
  // is typed (drizzle(pool), new PostgresDialect({ pool })). They are on the
  // class, not on a merged interface: merged, the any-typed implementation
  // signature below came first and every call typed as any.
  /** Not supported on the pool (throws a TypeError): use `pool.connect()` and `client.query(cursor)`. */
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
  /**
   * Runs one statement for the current tenant in one round trip: the
   * setting and the statement travel in one pipeline and share one implicit
   * transaction. Outside `withTenant` it throws `TENANT_CONTEXT_MISSING`
   * before a connection is taken.
   */
  override query(input: any, values?: any, callback?: any): any {
    if (typeof values === 'function') {
      callback = values
      values = undefined
    }
    if (typeof (input as { submit?: unknown })?.submit === 'function') {
      throw new TypeError('pool.query does not take a query object such as a cursor: use pool.connect() and client.query()')
    }
    const promise = this.#runOnce(input, values)
    if (!callback) return promise
    promise.then(
      (result) => callback(null, result),
      (error: Error) => callback(error),
    )
  }

  // connect() returns a tenant-bound client.
  // Typed as what the client offers, a TenantPoolClient, not a pg.PoolClient
  // (it has no setTypeParser, copyFrom, processID...).
  override connect(): Promise<TenantPoolClient>
  override connect(callback: (err: Error | undefined, client: TenantPoolClient | undefined, done: (release?: any) => void) => void): void
  // pg.Pool's own signatures, never chosen by a call on a TenantPool (the
  // ones above match first): they keep a TenantPool assignable where a
  // pg.Pool is typed, for drivers that only query and release.
  /** @deprecated The client is a TenantPoolClient, not a pg.PoolClient. */
  override connect(): Promise<pg.PoolClient>
  /** @deprecated The client is a TenantPoolClient, not a pg.PoolClient. */
  override connect(callback: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: any) => void) => void): void
  /**
   * Checks out a connection bound to the current tenant. Every statement on
   * it, and every transaction it opens, runs for that tenant.
   */
  override connect(callback?: any): any {
    const promise = this.#checkout()
    if (!callback) return promise
    promise.then(
      (client) => callback(undefined, client, (release?: unknown) => client.release(release as Error)),
      (error: Error) => callback(error),
    )
  }

  /**
   * Runs `fn` in one transaction for the current tenant: BEGIN carries the
   * setting in the same round trip, COMMIT on success, ROLLBACK on throw.
   */
  async transaction<T>(fn: (client: TenantPoolClient) => Promise<T> | T, options?: TransactionOptions): Promise<T> {
    // The checkout and its BEGIN are one step: one promise, no await between them.
    const client = await this.#checkout(beginStatement(options))
    try {
      let result: T
      try {
        result = await fn(client)
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined)
        throw error
      }
      const commit = await client._commit()
      // COMMIT of a failed transaction answers ROLLBACK instead of an error.
      if (commit.command === 'ROLLBACK') {
        throw new TenantScopeError('TRANSACTION_ROLLED_BACK', 'The transaction had failed and was rolled back instead of committed')
      }
      return result
    } finally {
      client.release()
    }
  }

  /** Connection counts, and per-tenant figures of the fair queue when `fairness` is set. */
  stats(): TenantPoolStats {
    const pool = this.#pool
    const stats: TenantPoolStats = { totalCount: pool.totalCount, idleCount: pool.idleCount, waitingCount: pool.waitingCount }
    if (this.#admission) stats.fairness = this.#admission.stats()
    if (this.#stats) stats.statements = this.#stats.snapshot()
    return stats
  }

  override end(callback?: () => void): any {
    return callback ? this.#pool.end(callback) : this.#pool.end()
  }

  // The hot path: one resolve, one checkout, one pipeline, no client wrapper.
  // A fresh checkout is never inside a transaction (release destroys those),
  // so the setter always rides along.
  // Callbacks rather than async/await: each promise costs more once
  // AsyncLocalStorage is in use (Node 20 runs its hooks on every promise).
  #runOnce(input: QueryInput, values: unknown[] | undefined): Promise<pg.QueryResult> {
    let tenant: ResolvedTenant
    try {
      tenant = this.#scope.resolve() // refuses before a connection is taken
    } catch (error) {
      return Promise.reject(error)
    }
    const admission = this.#admission
    if (admission === undefined) return this.#send(tenant, input, values, undefined)
    const permit = admission.tryAcquire(tenant.tenantId)
    if (permit) return this.#send(tenant, input, values, permit)
    return admission.wait(tenant.tenantId).then((granted) => this.#send(tenant, input, values, granted))
  }

  #send(tenant: ResolvedTenant, input: QueryInput, values: unknown[] | undefined, permit: Permit | undefined): Promise<pg.QueryResult> {
    return new Promise((resolve, reject) => {
      new PoolQuery(tenant, input, values, permit, this.#stats, this.#runOptions, resolve, reject).start(this.#pool)
    })
  }

  // Callbacks rather than async/await, as in #runOnce: one promise per
  // checkout. With `begin` (pool.transaction), the client is handed over
  // once that BEGIN, carrying the setter, has run on it.
  #checkout(begin?: string): Promise<TenantPoolClient> {
    let context: TenantContext
    let tenantId: string
    try {
      context = getTenantContext()
      tenantId = this.#scope.resolveContext(context).tenantId
    } catch (error) {
      return Promise.reject(error)
    }
    const admission = this.#admission
    // A checked-out client (and so a transaction) holds its share until
    // release(): it is never preempted.
    const permit = admission?.tryAcquire(tenantId)
    if (admission === undefined || permit) return this.#connectFor(context, tenantId, permit, begin)
    return admission.wait(tenantId).then((granted) => this.#connectFor(context, tenantId, granted, begin))
  }

  #connectFor(context: TenantContext, tenantId: string, permit: Permit | undefined, begin: string | undefined): Promise<TenantPoolClient> {
    return new Promise((resolve, reject) => {
      runOutsideTenant(connectWith, this.#pool, (error: Error | undefined, raw: pg.PoolClient | undefined, release: Release) => {
        if (error || !raw) {
          permit?.release()
          reject(error)
          return
        }
        try {
          trackConnection(raw)
        } catch (trackError) {
          runOutsideTenant(release, trackError as Error)
          permit?.release()
          reject(trackError)
          return
        }
        const client = new TenantPoolClient(raw, this.#scope, tenantId, { permit, stats: this.#stats })
        if (begin === undefined) {
          resolve(client)
          return
        }
        // The setter is built now that a connection is there, from the
        // caller's context, as a statement sent at this point would be.
        let setter: SetterStatement
        try {
          setter = this.#scope.resolveContext(context).setterStatement
        } catch (setterError) {
          client.release()
          reject(setterError)
          return
        }
        client._begin(begin, setter, (beginError) => {
          if (beginError === null) {
            resolve(client)
            return
          }
          // Destroyed if the BEGIN left it anywhere but idle (see release()).
          client.release()
          reject(beginError)
        })
      })
    })
  }
}

type Release = (release?: unknown) => void

function connectWith(
  pool: pg.Pool,
  callback: (error: Error | undefined, client: pg.PoolClient | undefined, release: Release) => void,
): void {
  pool.connect(callback)
}

for (const name of ['totalCount', 'idleCount', 'waitingCount', 'expiredCount'] as const) {
  Object.defineProperty(TenantPool.prototype, name, {
    get(this: TenantPool) {
      return this.unscopedPool[name]
    },
    configurable: true,
  })
}

// The settings a pool adds to every tenant's setter: its tier's database
// limits and its activity tag. Built once per context, with the setter.
function extraSettingsOf(
  policy: FairnessPolicy | undefined,
  tag: ((tenantId: string) => SettingEntry) | undefined,
): ((tenantId: string) => readonly SettingEntry[]) | undefined {
  if (policy === undefined && tag === undefined) return undefined
  return (tenantId) => {
    const limits = policy?.of(tenantId).limitSettings ?? []
    return tag === undefined ? limits : [...limits, tag(tenantId)]
  }
}

// The wrapped pool's events reach this pool's listeners. A forwarder is
// added once someone listens for that event here: pg-pool emits 'acquire'
// and 'release' on every checkout, and a forwarder that nobody hears would
// cost each query two calls per wrapper. Returns the hook, which
// removeAllListeners puts back.
function forwardPoolEvents(pool: pg.Pool, wrapper: TenantPool): (event: string | symbol) => void {
  const forwarded = new Set<string | symbol>()
  const onListen = (event: string | symbol): void => {
    if (forwarded.has(event) || !(POOL_EVENTS as readonly (string | symbol)[]).includes(event)) return
    forwarded.add(event)
    pool.on(event as (typeof POOL_EVENTS)[number], (...args: unknown[]) => wrapper.emit(event, ...args))
  }
  ;(wrapper as unknown as EventEmitter).on('newListener', onListen)
  return onListen
}

const wrappersOf = new WeakMap<pg.Pool, Set<TenantPool>>()

// An idle connection's error goes to every TenantPool over that pg.Pool that
// listens, and to the pg.Pool's own listeners; with no listener anywhere it
// throws, as pg.Pool does. One forwarder per pg.Pool, however many wrappers.
function forwardIdleErrors(pool: pg.Pool, wrapper: TenantPool): void {
  let wrappers = wrappersOf.get(pool)
  if (wrappers === undefined) {
    const all = (wrappers = new Set())
    wrappersOf.set(pool, all)
    pool.on('error', (error: Error, client: unknown) => {
      let handled = pool.listenerCount('error') > 1
      for (const each of all) {
        if (each.listenerCount('error') > 0) {
          each.emit('error', error, client)
          handled = true
        }
      }
      if (!handled) throw error
    })
  }
  wrappers.add(wrapper)
}

/**
 * Wraps an existing `pg.Pool` (or builds one from a `pg.PoolConfig`) so that
 * every query runs for the current tenant.
 * @example const pool = createTenantPool(new pg.Pool({ connectionString }))
 */
export function createTenantPool(poolOrConfig?: pg.Pool | pg.PoolConfig, options?: TenantPoolOptions): TenantPool {
  return new TenantPool(toPgPool(poolOrConfig), options)
}
