import type { EventEmitter } from 'node:events'
import type pg from 'pg'
import { isSubmittable, type Submittable } from './_pg-internals.js'
import { type BoundListener, bindListener } from './bound-listener.js'
import { mustDestroy } from './connection-state.js'
import { runOutsideTenant } from './context.js'
import { TenantScopeError } from './errors.js'
import type { Permit } from './fair-admission.js'
import { queryInTransaction } from './in-transaction.js'
import { explain, type QueryInput, runQuery, scopeSubmittable, sendQuery } from './run-query.js'
import type { SetterStatement } from './setter.js'
import type { TenantScope } from './tenant-scope.js'
import type { TenantStats } from './tenant-stats.js'

const NO_LISTENERS: ReadonlySet<{ event: string | symbol; bound: BoundListener }> = new Set()

function releaseClient(client: pg.PoolClient, release: Error | true | undefined): void {
  client.release(release)
}

type Callback<R extends pg.QueryResultRow = any> = (error: Error | null, result?: pg.QueryResult<R>) => void

/**
 * A connection checked out for one tenant. It stands in for pg's PoolClient:
 * every statement runs for the tenant it was checked out for, and every
 * transaction it opens carries the setting with its BEGIN. Use from another
 * tenant's context throws `TENANT_MISMATCH`; use after `release()` throws
 * `CLIENT_RELEASED`.
 */
export class TenantPoolClient {
  readonly #client: pg.PoolClient
  readonly #scope: TenantScope
  readonly #tenantId: string
  readonly #permit: Permit | undefined
  readonly #stats: TenantStats | undefined
  #released = false
  // Listeners added through this client, removed on release (made on the first one: most checkouts add none).
  #listeners: Set<{ event: string | symbol; bound: BoundListener }> | undefined

  /**
   * @internal `permit`: the fair queue's share this connection holds until
   * release; `stats`: the pool's statement counters.
   */
  constructor(
    client: pg.PoolClient,
    scope: TenantScope,
    tenantId: string,
    observers: { permit?: Permit | undefined; stats?: TenantStats | undefined } = {},
  ) {
    this.#client = client
    this.#scope = scope
    this.#tenantId = tenantId
    this.#permit = observers.permit
    this.#stats = observers.stats
  }

  /** The tenant this connection is bound to (normalised by parseTenantId). */
  get tenantId(): string {
    return this.#tenantId
  }

  /** pg's result, exactly; promise, callback and config-object forms as in pg. */
  query<R extends pg.QueryResultRow = any>(input: QueryInput, values?: unknown[]): Promise<pg.QueryResult<R>>
  query<R extends pg.QueryResultRow = any>(input: QueryInput, callback: Callback<R>): void
  query<R extends pg.QueryResultRow = any>(input: QueryInput, values: unknown[] | undefined, callback: Callback<R>): void
  query<T extends pg.Submittable>(submittable: T): T
  query(input: QueryInput | pg.Submittable, values?: unknown[] | Callback, callback?: Callback): unknown {
    if (typeof values === 'function') {
      callback = values
      values = undefined
    }
    if (isSubmittable(input)) {
      // As pg does: a callback given beside a query object becomes its callback.
      if (callback && !input.callback) input.callback = callback
      return this.#submit(input)
    }
    input = input as QueryInput
    let promise: Promise<pg.QueryResult>
    try {
      const setter = this.#checkedSetter()
      const citus = this.#scope.citus
      // Inside a transaction that has the setting, most statements need
      // nothing added: the direct path, where it applies (in-transaction.ts).
      promise =
        (citus ? undefined : queryInTransaction(this.#client, input, values, explain)) ??
        runQuery(this.#client, setter, input, values, { decideWhenSent: this.#client, citus })
    } catch (error) {
      promise = Promise.reject(error)
    }
    const stats = this.#stats
    if (stats) {
      const tenantId = this.#tenantId
      promise = promise.then(
        (result) => {
          stats.record(tenantId, undefined)
          return result
        },
        (error: unknown) => {
          stats.record(tenantId, error)
          throw error
        },
      )
    }
    if (!callback) return promise
    promise.then(
      (result) => callback(null, result),
      (error: Error) => callback(error),
    )
    return undefined
  }

  /**
   * @internal The BEGIN of pool.transaction, on a connection that nothing
   * else can queue on yet: it carries `setter` (the tenant's, built for this
   * client's tenant), and may use the named one. `done` gets pg's outcome.
   */
  _begin(text: string, setter: SetterStatement, done: (error: Error | null) => void): void {
    const scope = this.#scope
    sendQuery(this.#client, setter, text, undefined, { prepared: scope.preparedSetters, opening: true, citus: scope.citus }, done)
  }

  /**
   * @internal The COMMIT of pool.transaction, sent by the pool itself once
   * the caller's function returned: nothing of the caller's is in it, so the
   * tenant checks of query() are not asked again. Inside the transaction
   * that BEGIN opened it goes by the direct path; anywhere else (the
   * function left statements queued, or ended the transaction itself), and
   * in Citus mode or with stats, as query() sends it.
   */
  _commit(): Promise<pg.QueryResult> {
    if (this.#released || this.#stats !== undefined || this.#scope.citus) return this.query('COMMIT')
    return queryInTransaction(this.#client, 'COMMIT', undefined, explain) ?? this.query('COMMIT')
  }

  /**
   * Listens on the underlying connection, as on pg's PoolClient (an
   * EventEmitter): drivers such as Drizzle 1.0 watch `'error'` while a
   * transaction runs. The listener runs in the async context it was added in
   * (a `'notice'` listener added inside `withTenant` runs for that tenant),
   * not in the socket's. `release()` removes the listeners added here; after
   * it, `on` and `once` throw `CLIENT_RELEASED`.
   */
  on(event: string | symbol, listener: (...args: any[]) => void): this {
    return this.#listen(event, listener, false)
  }

  once(event: string | symbol, listener: (...args: any[]) => void): this {
    return this.#listen(event, listener, true)
  }

  /** Removes a listener added with `on` or `once` (a no-op after `release()`, which removed them all). */
  off(event: string | symbol, listener: (...args: any[]) => void): this {
    return this.removeListener(event, listener)
  }

  removeListener(event: string | symbol, listener: (...args: any[]) => void): this {
    if (this.#released) return this
    for (const entry of this.#listeners ?? NO_LISTENERS) {
      if (entry.event === event && entry.bound.listener === listener) {
        this.#listeners!.delete(entry)
        this.#events.removeListener(event, entry.bound)
        return this
      }
    }
    this.#events.removeListener(event, listener)
    return this
  }

  /**
   * Returns the connection to the pool. A connection still inside a
   * transaction, broken, waiting on the protocol, or carrying session state
   * that application SQL left (a session SET, a temporary table, a WITH HOLD
   * cursor, LISTEN, PREPARE, ...) is destroyed instead, so nothing passes to
   * the next borrower. Listeners added through this client are removed.
   */
  release(error?: Error | boolean): void {
    if (this.#released) {
      throw new TenantScopeError('CLIENT_RELEASED', 'release() was called twice on the same client')
    }
    this.#released = true
    if (this.#listeners !== undefined) {
      for (const { event, bound } of this.#listeners) this.#events.removeListener(event, bound)
      this.#listeners.clear()
    }
    const destroy = Boolean(error) || mustDestroy(this.#client)
    // Outside any tenant: pg-pool may open a connection or start an idle timer here.
    runOutsideTenant(releaseClient, this.#client, destroy ? (error instanceof Error ? error : true) : undefined)
    this.#permit?.release()
  }

  #listen(event: string | symbol, listener: (...args: any[]) => void, once: boolean): this {
    if (this.#released) {
      throw new TenantScopeError('CLIENT_RELEASED', 'This client was released; its connection may already serve another tenant')
    }
    if (typeof listener !== 'function') throw new TypeError('The listener must be a function')
    const listeners = (this.#listeners ??= new Set())
    const entry = { event, bound: bindListener(this.#events, event, listener, once, () => listeners.delete(entry)) }
    listeners.add(entry)
    this.#events.on(event, entry.bound)
    return this
  }

  get #events(): EventEmitter {
    return this.#client as unknown as EventEmitter
  }

  escapeIdentifier(value: string): string {
    return this.#client.escapeIdentifier(value)
  }

  escapeLiteral(value: string): string {
    return this.#client.escapeLiteral(value)
  }

  #submit<T extends Submittable>(submittable: T): T {
    return scopeSubmittable(this.#client, this.#checkedSetter(), submittable, this.#scope.citus)
  }

  // The current tenant's setter, after checking the context on every
  // statement. Whether it rides along is decided when the statement is sent,
  // after whatever was queued before it (see setter-placement.ts).
  #checkedSetter(): SetterStatement {
    if (this.#released) {
      throw new TenantScopeError('CLIENT_RELEASED', 'This client was released; its connection may already serve another tenant')
    }
    const { tenantId, setterStatement } = this.#scope.resolve()
    if (tenantId !== this.#tenantId) {
      throw new TenantScopeError('TENANT_MISMATCH', 'This connection is bound to another tenant than the current context')
    }
    return setterStatement
  }
}
