/**
 * @internal The slice of postgres.js (3.4.x) that the wrapper relies on,
 * beyond its documented API. Whoever upgrades postgres.js reads this file.
 *
 * - A query (`sql\`...\``, `sql.unsafe(...)`) is a lazy Promise subclass. On
 *   its first `then`/`execute` it calls `query.handler(query)`, where the
 *   handler is a plain property set by the `sql` that made it: the pool's
 *   handler, a reserved connection's, or a transaction's. Each of those sends
 *   the query on its connection(s) in the order the handler is called.
 * - `query.executed` says whether the handler was called; `query.resolve` /
 *   `query.reject` are per-query properties the connection calls when the
 *   statement completes (after its ReadyForQuery).
 * - `query.cursorFn` and `query.streaming` mark cursors and COPY streams,
 *   whose promise settles in more than one step.
 */
export interface QueryInternals extends Promise<unknown> {
  handler: Handler
  executed: boolean
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
  active: boolean
  cursorFn?: unknown
  cursorRows?: number
  /** The portal name postgres.js writes into the query's Bind; unused by postgres.js 3.4 itself (see tenant-token.ts). */
  cursorName?: string
  options: { simple?: boolean } & Record<string, unknown>
  streaming?: boolean
  strings: readonly string[]
  tagged: boolean
  execute(): QueryInternals
}

export type Handler = ((query: QueryInternals) => void) & { debug?: unknown }

/** The minimal shape of a postgres.js `sql` (pool, reserved or transaction) the wrapper calls. */
export interface SqlLike {
  (strings: TemplateStringsArray | string | unknown, ...args: unknown[]): unknown
  unsafe(text: string, args?: readonly unknown[], options?: { prepare?: boolean }): QueryInternals
  options: { prepare?: boolean } & Record<string, unknown>
}

/** @internal True for a postgres.js query object (as opposed to a fragment such as `sql(obj)`). */
export function isQuery(value: unknown): value is QueryInternals {
  return value instanceof Promise && typeof (value as Partial<QueryInternals>).handler === 'function' && 'executed' in value
}

/** @internal The handler that sends queries on `sql`'s connection(s). */
export function handlerOf(sql: SqlLike): Handler {
  // Making a query sends nothing until it is awaited; this one never is.
  return sql.unsafe('').handler
}

/** @internal Hands `query` to `handler` now, in call order, as its own `execute()` would a tick later. */
export function sendNow(query: QueryInternals, handler: Handler): void {
  query.executed = true
  query.handler = handler
  handler(query)
}

/** True for a postgres.js `Sql` (the function `postgres()` returns, or a reserved/transaction one). */
export function isPostgresSql(value: unknown): value is SqlLike {
  if (typeof value !== 'function') return false
  const candidate = value as unknown as { unsafe?: unknown; begin?: unknown; end?: unknown; options?: unknown }
  return (
    typeof candidate.unsafe === 'function' &&
    typeof candidate.begin === 'function' &&
    typeof candidate.end === 'function' &&
    typeof candidate.options === 'object' &&
    candidate.options !== null &&
    'parsers' in candidate.options &&
    'serializers' in candidate.options
  )
}

/**
 * @internal postgres.js 3.4 keeps a FATAL error that arrived during a query
 * (a backend terminated by an admin, a server restart) and hands it, on the
 * reconnected connection, to whatever is sent first: a transaction's BEGIN
 * then fails with the old connection's 57P01 although the new one is fine.
 * Nothing of the caller's was sent then, so trying once more is safe; a
 * server that is really going away refuses again.
 */
export function isStaleFatal(error: unknown): boolean {
  const candidate = error as { name?: string; severity?: string } | null
  return candidate?.name === 'PostgresError' && (candidate.severity === 'FATAL' || candidate.severity === 'PANIC')
}

// postgres.js 3.4 keeps a FATAL that arrived during a query and hands it to
// the first request on the reconnected connection. When that request is a
// reserve(), the reserve rejects and the connection is lost to the pool for
// good (with max: 1, every later query waits forever). An unscoped no-op sent
// now, while the dead connection is the one to reconnect, takes that error
// instead; it sends no tenant and reads nothing.
/** @internal */
export function absorbStaleError(sql: SqlLike): void {
  sql.unsafe('SELECT 1').catch(() => undefined)
}

// An error that ends the connection: postgres.js's own (CONNECTION_CLOSED,
// CONNECTION_DESTROYED, ...) or a FATAL one from the server. postgres.js moves
// a closed connection to its closed queue; releasing it afterwards would put
// a dead connection back among the open ones, so it is not released.
/** @internal */
export function connectionLost(error: unknown): boolean {
  const candidate = error as { name?: string; severity?: string } | null
  return candidate?.name !== 'PostgresError' || candidate.severity === 'FATAL' || candidate.severity === 'PANIC'
}

/** @internal An error of postgres.js's own that says the connection is gone (CONNECTION_CLOSED, ...), or a FATAL one. */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return (typeof code === 'string' && code.startsWith('CONNECTION_')) || isStaleFatal(error)
}
