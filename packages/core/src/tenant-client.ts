import type { EventEmitter } from 'node:events'
import type pg from 'pg'
import type { Submittable } from './_pg-internals.js'
import { mustDestroy } from './connection-state.js'
import { TenantScopeError } from './errors.js'
import { runQuery, scopeSubmittable, type QueryInput } from './run-query.js'
import type { SetterStatement } from './setter.js'
import type { TenantScope } from './tenant-scope.js'

type Callback = (error: Error | null, result?: pg.QueryResult) => void

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
  #released = false

  /** @internal */
  constructor(client: pg.PoolClient, scope: TenantScope, tenantId: string) {
    this.#client = client
    this.#scope = scope
    this.#tenantId = tenantId
  }

  /** The tenant this connection is bound to (normalised by parseTenantId). */
  get tenantId(): string {
    return this.#tenantId
  }

  /** pg's result, exactly; promise, callback and config-object forms as in pg. */
  query<R extends pg.QueryResultRow = any>(input: QueryInput, values?: unknown[]): Promise<pg.QueryResult<R>>
  query<R extends pg.QueryResultRow = any>(input: QueryInput, callback: Callback): void
  query<R extends pg.QueryResultRow = any>(input: QueryInput, values: unknown[] | undefined, callback: Callback): void
  query<T extends Submittable>(submittable: T): T
  query(input: QueryInput | Submittable, values?: unknown[] | Callback, callback?: Callback): unknown {
    if (typeof values === 'function') {
      callback = values
      values = undefined
    }
    if (isSubmittable(input)) return this.#submit(input)
    let promise: Promise<pg.QueryResult>
    try {
      promise = runQuery(this.#client, this.#checkedSetter(), input, values, { decideWhenSent: this.#client, citus: this.#scope.citus })
    } catch (error) {
      promise = Promise.reject(error)
    }
    if (!callback) return promise
    promise.then((result) => callback(null, result), (error: Error) => callback(error))
    return undefined
  }

  /**
   * @internal The BEGIN of pool.transaction, on a connection that nothing
   * else can queue on yet: it carries the setter, and may use the named one.
   */
  _queryAlone(input: QueryInput, values?: unknown[]): Promise<pg.QueryResult> {
    try {
      return runQuery(this.#client, this.#checkedSetter(), input, values, { prepared: this.#scope.preparedSetters, citus: this.#scope.citus })
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Listens on the underlying connection, as on pg's PoolClient (an
   * EventEmitter): drivers such as Drizzle 1.0 watch `'error'` while a
   * transaction runs. Remove listeners before `release()`.
   */
  on(event: string | symbol, listener: (...args: any[]) => void): this {
    this.#events.on(event, listener)
    return this
  }

  once(event: string | symbol, listener: (...args: any[]) => void): this {
    this.#events.once(event, listener)
    return this
  }

  off(event: string | symbol, listener: (...args: any[]) => void): this {
    this.#events.off(event, listener)
    return this
  }

  removeListener(event: string | symbol, listener: (...args: any[]) => void): this {
    this.#events.removeListener(event, listener)
    return this
  }

  /**
   * Returns the connection to the pool. A connection still inside a
   * transaction, or broken, is destroyed instead, so no transaction and no
   * tenant setting passes to the next borrower.
   */
  release(error?: Error | boolean): void {
    if (this.#released) {
      throw new TenantScopeError('CLIENT_RELEASED', 'release() was called twice on the same client')
    }
    this.#released = true
    const destroy = Boolean(error) || mustDestroy(this.#client)
    this.#client.release(destroy ? (error instanceof Error ? error : true) : undefined)
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
  // after whatever was queued before it (see skipFor in run-query.ts).
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

function isSubmittable(input: unknown): input is Submittable {
  return typeof (input as { submit?: unknown } | null)?.submit === 'function'
}
