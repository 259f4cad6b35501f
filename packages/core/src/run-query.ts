import pg from 'pg'
import type { Submittable } from './_pg-internals.js'
import { TenantScopeError } from './errors.js'
import type { PreparedSetters } from './prepared-setter.js'
import { connectionState, isSetterPending, setSetterPending } from './connection-state.js'
import { isBeginWithModes, isChainedTransactionEnd, isPlainBegin, isSetTransaction, ScopedBegin } from './scoped-begin.js'
import { ScopedQuery } from './scoped-query.js'
import { citusStatement, isCitusTransactionBegin } from './citus-scoped-query.js'
import type { SetterStatement } from './setter.js'
import type { StatementWrapper } from './statement-wrapper.js'

/** The first argument of `pool.query`: SQL text or a pg query config. */
export type QueryInput = string | pg.QueryConfig

/** @internal How runQuery sends the setter. */
export interface RunOptions {
  /**
   * For clients from pool.connect(), where statements can queue behind a
   * BEGIN or a COMMIT: whether the setter rides along is decided when the
   * statement is sent (see skipFor), not when it is queued.
   */
  decideWhenSent?: pg.ClientBase
  /**
   * Only where nothing else can be queued on the client behind this
   * statement (pool.query, pool.transaction's BEGIN): a retry joins the
   * back of pg's queue.
   */
  prepared?: PreparedSetters | null
  /** Citus mode: outside a transaction, BEGIN and COMMIT go around the statement (citus-scoped-query.ts). */
  citus?: boolean
}

/**
 * @internal Runs one statement on a checked-out client, with the setter in
 * the same pipeline (see ScopedQuery), or after it for a BEGIN with modes and
 * a COMMIT/ROLLBACK AND CHAIN (see ScopedBegin).
 */
export function runQuery(
  client: pg.ClientBase,
  setter: SetterStatement,
  input: QueryInput,
  values: unknown[] | undefined,
  options: RunOptions = {},
): Promise<pg.QueryResult> {
  return new Promise<pg.QueryResult>((resolve, reject) => {
    sendQuery(client, setter, input, values, options, (error, result) => {
      if (error) reject(error)
      else resolve(result!)
    })
  })
}

/** @internal runQuery with a callback: the pool's hot path makes no promise of its own per step. */
export function sendQuery(
  client: pg.ClientBase,
  setter: SetterStatement,
  input: QueryInput,
  values: unknown[] | undefined,
  options: RunOptions,
  done: (error: Error | null, result?: pg.QueryResult) => void,
): void {
  // pg's own Query: results come out exactly as pg makes them. The wrapper
  // switches it to the extended protocol when it adds the setter. pg copies a
  // config object itself (and a string costs no copy), so it is passed as given.
  const statement = new pg.Query(input as pg.QueryConfig, values as never) as unknown as Submittable
  const { text } = statement
  statement.callback = (error: Error | null, result: pg.QueryResult) => {
    if (error) done(explain(error))
    else done(null, result)
  }
  const bound = options.decideWhenSent
  let wrapper: StatementWrapper
  if (isBeginWithModes(text)) {
    wrapper = new ScopedBegin(setter, statement, bound && (() => inTransaction(bound)))
  } else if (options.citus && isCitusTransactionBegin(text, bound)) {
    // pool.transaction's BEGIN: Citus forwards the SET LOCAL only inside the block.
    wrapper = new ScopedBegin(setter, statement)
  } else if (isChainedTransactionEnd(text)) {
    // The chained transaction starts without the setting: apply it again.
    wrapper = new ScopedBegin(setter, statement)
  } else if (options.citus) {
    wrapper = citusStatement(client, setter, statement, bound && skipFor(bound, text))
  } else {
    const { prepared } = options
    const retry = () => void client.query(new ScopedQuery(setter, statement) as unknown as pg.QueryConfig)
    const use = prepared && !(client as { pipeline?: boolean }).pipeline ? prepared.use(client, setter, retry) : undefined
    wrapper = new ScopedQuery(setter, statement, { prepared: use, skip: bound && skipFor(bound, text) })
  }
  wrapper.query_timeout = typeof input === 'string' ? undefined : (input as { query_timeout?: number }).query_timeout
  client.query(wrapper as unknown as pg.QueryConfig)
}

function inTransaction(client: pg.ClientBase): boolean {
  const state = connectionState(client)
  return state === 'T' || state === 'E'
}

/**
 * When the statement is sent: does it go without the setter? Outside a
 * transaction, never. A plain BEGIN goes alone and leaves the setter to the
 * transaction's first statement, so that `SET TRANSACTION ...` (which
 * PostgreSQL takes only before any query) can still follow it; that first
 * statement, whatever it is, carries the setter. Inside a transaction that
 * has it, statements go as they are.
 */
function skipFor(client: pg.ClientBase, text: unknown): () => boolean {
  const begin = isPlainBegin(text)
  const setTransaction = isSetTransaction(text)
  return () => {
    if (!inTransaction(client)) {
      if (!begin) return false
      setSetterPending(client, true)
      return true
    }
    if (!isSetterPending(client) || setTransaction) return true
    setSetterPending(client, false)
    return false
  }
}

/** @internal Wraps a user submittable (a cursor, a stream) so it runs after the setter. */
export function scopeSubmittable<T extends Submittable>(client: pg.ClientBase, setter: SetterStatement, submittable: T, citus = false): T {
  const skip = skipFor(client, submittable.text)
  const wrapper = citus ? citusStatement(client, setter, submittable, skip, false) : new ScopedQuery(setter, submittable, { skip })
  client.query(wrapper as unknown as pg.QueryConfig)
  return submittable
}

// The extended protocol takes one statement per Parse; say what to do instead.
function explain(error: Error): Error {
  const { code } = error as { code?: string }
  if (code === '42601' && /multiple commands/i.test(error.message)) {
    return new TenantScopeError(
      'MULTI_STATEMENT_QUERY',
      'A tenant-scoped query carries one statement. Send statements one by one, or run the script inside pool.transaction(), where it is sent as is.',
      { cause: error },
    )
  }
  return error
}
