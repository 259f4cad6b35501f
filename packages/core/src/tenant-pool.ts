import pg from 'pg'
import { mustDestroy, trackConnection } from './connection-state.js'
import { TenantScopeError } from './errors.js'
import { toPgPool } from './pool-config.js'
import { sendQuery, type QueryInput } from './run-query.js'
import type { SetterStatement } from './setter.js'
import { TenantPoolClient } from './tenant-client.js'
import { TenantScope, type TenantScopeOptions } from './tenant-scope.js'
import { beginStatement, type TransactionOptions } from './transaction-options.js'

export type TenantPoolOptions = TenantScopeOptions

const POOL_EVENTS = ['connect', 'acquire', 'release', 'remove'] as const

/**
 * A pg.Pool whose every statement runs for the current tenant.
 *
 * It is a real `pg.Pool` subclass so that drivers which test
 * `instanceof pg.Pool` (Drizzle's node-postgres session does, to decide
 * whether a transaction needs its own connection) treat it as one. The
 * connections come from the wrapped pool; this object's own pg.Pool state
 * stays empty and unused.
 */
// The typed overloads: pg.Pool's own query signatures, and connect()
// returning a tenant-bound client.
export interface TenantPool {
  // pg.Pool's own overloads, so a TenantPool is assignable wherever a pg.Pool
  // is typed (drizzle(pool), new PostgresDialect({ pool })).
  /** Not supported on the pool (throws a TypeError): use `pool.connect()` and `client.query(cursor)`. */
  query<T extends pg.Submittable>(queryStream: T): T
  query<R extends any[] = any[], I = any[]>(queryConfig: pg.QueryArrayConfig<I>, values?: pg.QueryConfigValues<I>): Promise<pg.QueryArrayResult<R>>
  query<R extends pg.QueryResultRow = any, I = any[]>(queryConfig: pg.QueryConfig<I>): Promise<pg.QueryResult<R>>
  query<R extends pg.QueryResultRow = any, I = any[]>(queryTextOrConfig: string | pg.QueryConfig<I>, values?: pg.QueryConfigValues<I>): Promise<pg.QueryResult<R>>
  query<R extends any[] = any[], I = any[]>(queryConfig: pg.QueryArrayConfig<I>, callback: (err: Error, result: pg.QueryArrayResult<R>) => void): void
  query<R extends pg.QueryResultRow = any, I = any[]>(queryTextOrConfig: string | pg.QueryConfig<I>, callback: (err: Error, result: pg.QueryResult<R>) => void): void
  query<R extends pg.QueryResultRow = any, I = any[]>(queryText: string, values: pg.QueryConfigValues<I>, callback: (err: Error, result: pg.QueryResult<R>) => void): void
  connect(): Promise<TenantPoolClient & pg.PoolClient>
  connect(callback: (err: Error | undefined, client: (TenantPoolClient & pg.PoolClient) | undefined, done: (release?: any) => void) => void): void
}

export class TenantPool extends pg.Pool {
  readonly #pool: pg.Pool
  readonly #scope: TenantScope

  // Live values of the wrapped pool (pg.Pool declares them as fields).
  declare readonly totalCount: number
  declare readonly idleCount: number
  declare readonly waitingCount: number
  declare readonly expiredCount: number

  /** @internal Use createTenantPool(). */
  constructor(pool: pg.Pool, options: TenantPoolOptions = {}) {
    super()
    this.#pool = pool
    this.#scope = new TenantScope(options)
    // pg.Pool's constructor wrote its own copies; point them at the wrapped pool.
    Object.defineProperties(this, {
      options: { get: () => this.#pool.options, configurable: true },
      ending: { get: () => this.#pool.ending, configurable: true },
      ended: { get: () => this.#pool.ended, configurable: true },
    })
    for (const event of POOL_EVENTS) {
      pool.on(event, (...args: unknown[]) => this.emit(event, ...args))
    }
    forwardIdleErrors(pool, this)
  }

  /** The wrapped pg.Pool. Queries on it are NOT tenant-scoped. */
  get unscopedPool(): pg.Pool {
    return this.#pool
  }

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
    promise.then((result) => callback(null, result), (error: Error) => callback(error))
  }

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
    const begin = beginStatement(options)
    const client = await this.#checkout()
    try {
      await client._queryAlone(begin)
      let result: T
      try {
        result = await fn(client)
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined)
        throw error
      }
      const commit = await client.query('COMMIT')
      // COMMIT of a failed transaction answers ROLLBACK instead of an error.
      if (commit.command === 'ROLLBACK') {
        throw new TenantScopeError('TRANSACTION_ROLLED_BACK', 'The transaction had failed and was rolled back instead of committed')
      }
      return result
    } finally {
      client.release()
    }
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
    let setterStatement: SetterStatement
    try {
      setterStatement = this.#scope.resolve().setterStatement // refuses before a connection is taken
    } catch (error) {
      return Promise.reject(error)
    }
    const prepared = this.#scope.preparedSetters
    return new Promise((resolve, reject) => {
      this.#pool.connect((connectError, client, release) => {
        if (connectError || !client) return reject(connectError)
        const finish = (error: Error | null, result?: pg.QueryResult) => {
          release(mustDestroy(client, error ?? undefined) ? (error ?? true) : undefined)
          if (error) reject(error)
          else resolve(result!)
        }
        try {
          trackConnection(client)
          sendQuery(client, setterStatement, input, values, { prepared, citus: this.#scope.citus }, finish)
        } catch (error) {
          finish(error as Error)
        }
      })
    })
  }

  async #checkout(): Promise<TenantPoolClient & pg.PoolClient> {
    const { tenantId } = this.#scope.resolve()
    const raw = await this.#pool.connect()
    try {
      trackConnection(raw)
    } catch (error) {
      raw.release(error as Error)
      throw error
    }
    return new TenantPoolClient(raw, this.#scope, tenantId) as TenantPoolClient & pg.PoolClient
  }
}

for (const name of ['totalCount', 'idleCount', 'waitingCount', 'expiredCount'] as const) {
  Object.defineProperty(TenantPool.prototype, name, {
    get(this: TenantPool) {
      return this.unscopedPool[name]
    },
    configurable: true,
  })
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
