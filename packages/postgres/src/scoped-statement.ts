import { TenantScopeError, type SetterStatement } from '@tenantscope/core'
import { handlerOf, sendNow, type Handler, type QueryInternals, type SqlLike } from './_postgres-internals.js'

/** The part of a postgres.js pool `sql` a scoped statement uses. */
export interface PoolSqlLike extends SqlLike {
  reserve(): Promise<SqlLike & { release(): void }>
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown }

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
  const statement = new Promise<Outcome>((resolve) => {
    query.resolve = (value) => ((query.active = false), resolve({ ok: true, value }))
    query.reject = (error) => ((query.active = false), resolve({ ok: false, error }))
  })
  const handler = handlerOf(reserved)
  const begin = reserved.unsafe('begin')
  const set = reserved.unsafe(setter.text, [...setter.values], { prepare: true })
  const commit = reserved.unsafe('commit')
  // One tick, in order: the connection writes them as one chunk.
  sendNow(begin, handler)
  sendNow(set, handler)
  sendNow(query, handler)
  sendNow(commit, handler)
  // They settle in pipeline order. Once the connection is lost, what was
  // still queued behind a described statement never settles: stop there.
  const parts = [begin, set, statement.then((outcome) => (outcome.ok ? outcome.value : Promise.reject(outcome.error))), commit]
  // Handled from the start: after a lost connection some are never awaited.
  for (const part of parts) part.catch(() => undefined)
  let failure: { error: unknown } | undefined
  let committed: unknown
  for (const part of parts) {
    try {
      committed = await part
    } catch (error) {
      failure ??= { error }
      if (connectionLost(error)) return settle.reject(failure.error)
    }
  }
  // COMMIT was answered: the connection is alive and out of the transaction.
  reserved.release()
  if (failure) return settle.reject(failure.error)
  if ((committed as { command?: string }).command === 'ROLLBACK') {
    return settle.reject(new TenantScopeError('TRANSACTION_ROLLED_BACK', 'COMMIT found the statement’s transaction failed; PostgreSQL rolled it back'))
  }
  settle.resolve((await statement as { value: unknown }).value)
}

// An error that ends the connection: postgres.js's own (CONNECTION_CLOSED,
// CONNECTION_DESTROYED, ...) or a FATAL one from the server. postgres.js moves
// a closed connection to its closed queue; releasing it afterwards would put
// a dead connection back among the open ones, so it is not released.
function connectionLost(error: unknown): boolean {
  const candidate = error as { name?: string; severity?: string } | null
  return candidate?.name !== 'PostgresError' || candidate.severity === 'FATAL' || candidate.severity === 'PANIC'
}
