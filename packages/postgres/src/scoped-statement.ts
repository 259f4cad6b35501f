import { type SetterStatement, TenantScopeError } from '@tenantscope/core'
import { absorbStaleError, connectionLost, type Handler, type QueryInternals, type SqlLike, sendNow } from './_postgres-internals.js'

/** The part of a postgres.js pool `sql` a scoped statement uses. */
export interface PoolSqlLike extends SqlLike {
  reserve(): Promise<SqlLike & { release(): void }>
}

/**
 * @internal A query handler that runs `query` for the tenant of `setter`:
 * on one reserved connection it sends `BEGIN`, the setter, the statement
 * and `COMMIT` in one write. postgres.js closes every query with its own
 * Sync, so the setting needs an explicit transaction to reach the
 * statement; pipelined, that is still one round trip for a prepared
 * statement. The caller's promise settles after COMMIT, with the statement's
 * result, or with the first error: BEGIN's, the setter's (then the
 * statement never ran for anyone), the statement's, COMMIT's.
 */
export function scopedStatementHandler(sql: PoolSqlLike, setter: SetterStatement, debug: unknown): Handler {
  const handler: Handler = (query) => {
    void runScoped(sql, query, setter)
  }
  handler.debug = debug
  return handler
}

async function runScoped(sql: PoolSqlLike, query: QueryInternals, setter: SetterStatement): Promise<void> {
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
  const begin = reserved.unsafe('begin')
  const handler = begin.handler
  const set = reserved.unsafe(setter.text, [...setter.values], { prepare: true })
  const commit = reserved.unsafe('commit')
  const pipeline = new Pipeline(
    settle,
    () => reserved.release(),
    () => absorbStaleError(sql),
  )
  // Outcomes are taken with Promise's own then: the queries were sent by
  // hand, and a query's then() would only try to send it again.
  const watch = (part: QueryInternals, index: number) =>
    promiseThen.call(
      part,
      (value) => pipeline.record(index, true, value),
      (error) => pipeline.record(index, false, error),
    )
  watch(begin, 0)
  watch(set, 1)
  query.resolve = (value) => ((query.active = false), pipeline.record(2, true, value))
  query.reject = (error) => ((query.active = false), pipeline.record(2, false, error))
  watch(commit, 3)
  // One tick, in order: the connection writes them as one chunk.
  sendNow(begin, handler)
  sendNow(set, handler)
  sendNow(query, handler)
  sendNow(commit, handler)
}

const promiseThen = Promise.prototype.then as (
  this: Promise<unknown>,
  ok: (value: unknown) => void,
  fail: (error: unknown) => void,
) => unknown

/**
 * BEGIN, setter, statement, COMMIT settle in this order. The caller's
 * promise settles once COMMIT did, with the first error if any. Once the
 * connection is lost, what was still queued behind a described statement
 * never settles (postgres.js keeps it in the reserved connection's queue):
 * the caller hears at once, and the dead connection is not released.
 */
class Pipeline {
  #settled = 0
  #done = false
  // By position, not by arrival: the statement's own settlement is recorded
  // at once, the others a microtask later.
  readonly #failures: Array<{ error: unknown } | undefined> = []
  #value: unknown
  #committed: unknown

  constructor(
    private readonly settle: { resolve: (value: unknown) => void; reject: (error: unknown) => void },
    private readonly release: () => void,
    private readonly lost: () => void,
  ) {}

  record(index: number, ok: boolean, outcome: unknown): void {
    if (this.#done) return
    this.#settled++
    if (ok) {
      if (index === 2) this.#value = outcome
      if (index === 3) this.#committed = outcome
    } else {
      this.#failures[index] = { error: outcome }
      if (connectionLost(outcome)) {
        this.#done = true
        this.lost()
        this.settle.reject(this.#firstFailure()!.error)
        return
      }
    }
    if (this.#settled < 4) return
    this.#done = true
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
