import { AsyncResource } from 'node:async_hooks'
import type pg from 'pg'
import { mustDestroy, trackConnection } from './connection-state.js'
import { runOutsideTenant } from './context.js'
import type { Permit } from './fair-admission.js'
import { type QueryInput, type RunOptions, sendQuery } from './run-query.js'
import type { ResolvedTenant } from './tenant-scope.js'
import type { TenantStats } from './tenant-stats.js'

type Release = (release?: unknown) => void

/**
 * @internal One `pool.query`: takes a connection from the wrapped pool, runs
 * the statement with the setter in one pipeline (sendQuery), hands the
 * connection back, settles the promise. One object per call holds what the
 * callbacks need, instead of a closure per step.
 *
 * It is the AsyncResource of the caller's context: pg-pool calls back from
 * whichever socket event frees a connection, and the statement is sent (and
 * a tracer's hook reads the tenant and its parent span) in the caller's
 * context all the same. (Not AsyncResource.bind: on Node 20 it also defines
 * two deprecated accessors per call, which cost more than the rest of this.)
 *
 * The wrapped pool is called outside any tenant's context: a connection it
 * opens, and the timers it starts, must never carry this tenant (pg emits a
 * socket's events in the context the socket was opened in).
 */
export class PoolQuery extends AsyncResource {
  readonly #tenant: ResolvedTenant
  readonly #input: QueryInput
  readonly #values: unknown[] | undefined
  readonly #permit: Permit | undefined
  readonly #stats: TenantStats | undefined
  readonly #options: RunOptions
  // Dropped once settled, as a finished StatementWrapper drops its
  // statement: nothing that still points here keeps the result alive.
  #resolve: ((result: pg.QueryResult) => void) | undefined
  #reject: ((error: unknown) => void) | undefined
  #client: pg.PoolClient | undefined
  #release: Release | undefined

  constructor(
    tenant: ResolvedTenant,
    input: QueryInput,
    values: unknown[] | undefined,
    permit: Permit | undefined,
    stats: TenantStats | undefined,
    options: RunOptions,
    resolve: (result: pg.QueryResult) => void,
    reject: (error: unknown) => void,
  ) {
    super('tenantscope:query')
    this.#tenant = tenant
    this.#input = input
    this.#values = values
    this.#permit = permit
    this.#stats = stats
    this.#options = options
    this.#resolve = resolve
    this.#reject = reject
  }

  /** Checks a connection out of `pool` and runs the statement on it. */
  start(pool: pg.Pool): void {
    runOutsideTenant(connectFor, pool, this)
  }

  /** pg-pool's callback, in whatever context the freed connection's event runs. */
  readonly connected = (error: Error | undefined, client: pg.PoolClient | undefined, release: Release): void => {
    this.runInAsyncScope(this.#send, this, error, client, release)
  }

  #send(connectError: Error | undefined, client: pg.PoolClient | undefined, release: Release): void {
    if (connectError || !client) {
      this.#permit?.release()
      this.#reject!(connectError)
      return
    }
    this.#client = client
    this.#release = release
    try {
      trackConnection(client)
      sendQuery(client, this.#tenant.setterStatement, this.#input, this.#values, this.#options, this.done)
    } catch (error) {
      this.done(error as Error)
    }
  }

  /** The statement's outcome: the connection goes back (or is destroyed), then the caller hears. Once. */
  readonly done = (error: Error | null, result?: pg.QueryResult, unsent?: boolean): void => {
    const client = this.#client
    if (client === undefined) return
    this.#client = undefined
    // `unsent`: refused before anything was written, the connection is as it was.
    runOutsideTenant(this.#release!, mustDestroy(client, unsent ? undefined : (error ?? undefined)) ? (error ?? true) : undefined)
    this.#permit?.release()
    this.#stats?.record(this.#tenant.tenantId, error)
    const resolve = this.#resolve!
    const reject = this.#reject!
    this.#resolve = this.#reject = undefined
    if (error) reject(error)
    else resolve(result!)
  }
}

function connectFor(pool: pg.Pool, query: PoolQuery): void {
  pool.connect(query.connected)
}
