import { TenantScopeError } from '@tenantscope/core'
import { absorbStaleError, connectionLost, type Handler, type QueryInternals, type SqlLike, sendNow } from './_postgres-internals.js'
import type { ResolvedTenant } from './tenant-binding.js'

/** The part of a postgres.js pool `sql` a scoped statement uses. */
export interface PoolSqlLike extends SqlLike {
  reserve(): Promise<SqlLike & { release(): void }>
}

/**
 * @internal A query handler that runs `query` for the current tenant. On
 * one reserved connection, in one write: `BEGIN; SET LOCAL <setting> =
 * '<id>'` as one simple Query (or, for an id that may not be a literal or a
 * custom setter, `BEGIN` and the setter with the id a bind parameter), the
 * statement, `COMMIT`. postgres.js closes every query with its own Sync, so
 * the setting needs an explicit transaction to reach the statement;
 * pipelined, that is still one round trip for a prepared statement. The
 * caller's promise settles after COMMIT, with the statement's result, or
 * with the first error: the opening's (then the statement never ran for
 * anyone), the statement's, COMMIT's.
 */
export function scopedStatementHandler(sql: PoolSqlLike, tenant: ResolvedTenant, debug: unknown): Handler {
  const handler: Handler = (query) => {
    void runScoped(sql, query, tenant)
  }
  handler.debug = debug
  return handler
}

async function runScoped(sql: PoolSqlLike, query: QueryInternals, tenant: ResolvedTenant): Promise<void> {
  const settle = { resolve: query.resolve, reject: query.reject }
  if (query.cursorFn !== undefined || query.streaming === true) {
    settle.reject(
      new TenantScopeError('INVALID_CONFIG', 'A cursor or COPY stream spans several round trips: run it inside sql.begin(tx => ...)'),
    )
    return
  }
  let reserved: Awaited<ReturnType<PoolSqlLike['reserve']>>
  try {
    reserved = await sql.reserve()
  } catch (error) {
    settle.reject(error)
    return
  }
  const parts: QueryInternals[] = []
  if (tenant.opening !== undefined) {
    parts.push(reserved.unsafe(tenant.opening))
  } else {
    parts.push(reserved.unsafe('begin'), reserved.unsafe(tenant.setter.text, [...tenant.setter.values], { prepare: true }))
  }
  const statement = parts.length
  parts.push(query, reserved.unsafe('commit'))
  const handler = parts[0]!.handler
  const pipeline = new Pipeline(
    parts.length,
    statement,
    settle,
    () => reserved.release(),
    () => absorbStaleError(sql),
  )
  // The connection calls a query's own resolve/reject when it completes:
  // taken over here, so no promise is made per part. Each is sent in order
  // in this tick: the connection writes them as one chunk.
  parts.forEach((part, index) => {
    part.resolve = (value) => ((part.active = false), pipeline.record(index, true, value))
    part.reject = (error) => ((part.active = false), pipeline.record(index, false, error))
    sendNow(part, handler)
  })
}

/**
 * The parts (opening, statement, COMMIT) settle in this order. The caller's
 * promise settles once COMMIT did, with the first error if any. Once the
 * connection is lost, what was still queued behind a described statement
 * never settles (postgres.js keeps it in the reserved connection's queue):
 * the caller hears at once, and the dead connection is not released.
 */
class Pipeline {
  #settled = 0
  #done = false
  // By position: the first failure in pipeline order is the one reported.
  readonly #failures: Array<{ error: unknown } | undefined> = []
  #value: unknown
  #committed: unknown

  constructor(
    private readonly parts: number,
    private readonly statement: number,
    private readonly settle: { resolve: (value: unknown) => void; reject: (error: unknown) => void },
    private readonly release: () => void,
    private readonly lost: () => void,
  ) {}

  record(index: number, ok: boolean, outcome: unknown): void {
    if (this.#done) return
    this.#settled++
    if (ok) {
      if (index === this.statement) this.#value = outcome
      if (index === this.parts - 1) this.#committed = outcome
    } else {
      this.#failures[index] = { error: outcome }
      if (connectionLost(outcome)) {
        this.#done = true
        queueMicrotask(() => {
          this.lost()
          this.settle.reject(this.#firstFailure()!.error)
        })
        return
      }
    }
    if (this.#settled < this.parts) return
    this.#done = true
    // Not from inside the connection's ReadyForQuery handler, which calls
    // this: released there, postgres.js would hand the connection out again
    // when the handler goes on.
    queueMicrotask(() => this.#finish())
  }

  #finish(): void {
    // COMMIT was answered: the connection is alive and out of the transaction.
    this.release()
    const failure = this.#firstFailure()
    if (failure) {
      this.settle.reject(failure.error)
      return
    }
    if ((this.#committed as { command?: string }).command === 'ROLLBACK') {
      this.settle.reject(
        new TenantScopeError('TRANSACTION_ROLLED_BACK', 'COMMIT found the statement’s transaction failed; PostgreSQL rolled it back'),
      )
      return
    }
    this.settle.resolve(this.#value)
  }

  #firstFailure(): { error: unknown } | undefined {
    return this.#failures.find((failure) => failure !== undefined)
  }
}
