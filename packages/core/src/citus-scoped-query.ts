import type pg from 'pg'
import {
  clearBeforeNextSync,
  corked,
  forgetSubmittedStatement,
  type PgConnection,
  queryClassOf,
  queueFirst,
  type Submittable,
  writeBeforeNextSync,
  writeFixedStatement,
} from './_pg-internals.js'
import { connectionState } from './connection-state.js'
import { TenantScopeError } from './errors.js'
import type { PreparedSetterUse } from './prepared-setter.js'
import type { PreparedStatements } from './prepared-statements.js'
import { ScopedQuery, validateStatement } from './scoped-query.js'
import type { SetterStatement } from './setter.js'
import { scriptShape } from './statement-kind.js'
import { StatementWrapper } from './statement-wrapper.js'

/**
 * @internal The Citus mode's statement: Citus forwards a `SET LOCAL` to the
 * workers only inside an explicit transaction block, so a statement that runs
 * outside a transaction goes as
 *
 *   Parse/Bind/Execute(BEGIN)  [ScopedQuery: setter, statement]  Parse/Bind/Execute(COMMIT)  Sync
 *
 * still one round trip. Inside a transaction (a client from pool.connect()
 * after BEGIN) it is a plain ScopedQuery: the transaction's first statement
 * carries the setter, the others go as they are.
 *
 * The statement is checked before BEGIN is written, and COMMIT goes just
 * before the ScopedQuery's Sync, so a statement that pg refuses leaves
 * nothing half-sent. The replies to BEGIN and COMMIT are
 * swallowed; the ScopedQuery sees exactly what it would see alone.
 *
 * An error between BEGIN and COMMIT leaves the connection in a failed
 * transaction ('E'): a ROLLBACK is queued ahead of anything else on the
 * client, and the error reaches the caller once it is done, so the
 * connection is idle again when the caller can release it or send the next
 * statement. An error at COMMIT ends the transaction by itself.
 *
 * On pool.query the setter is a named statement (parsed once per server
 * connection, see prepared-setter.ts). If the connection turns out not to
 * hold it (a pooler moved us, someone ran DEALLOCATE), it fails after BEGIN
 * and before the user's statement ran: the transaction is rolled back and
 * the whole statement goes again with the setter unnamed, ahead of anything
 * else queued on the client. With prepareStatements the user's statement is
 * named too (Citus then keeps its routed plan): one that fails at Parse or
 * Bind (missing, already there, its result type changed) has not run; the
 * same roll back, and it goes again unnamed, with a Close of the name.
 */
export class CitusScopedQuery extends StatementWrapper {
  readonly #client: pg.ClientBase
  readonly #wrapWhenIdle: boolean
  /** Shared with the inner ScopedQuery's `skip`: while wrapping, the setter always rides along. */
  readonly #wrap: { now: boolean }
  /** CommandCompletes seen since BEGIN was written: 0 BEGIN, 1 setter, 2 statement, 3 COMMIT. */
  #completes = 0
  #statementDone = false
  readonly #retry: Retry | undefined

  /**
   * `client` is the connection it runs on (to queue the ROLLBACK); `inner`
   * is the ScopedQuery over the user's statement, whose `skip` reads `wrap`
   * (see citusStatement). `wrapWhenIdle` false: a cursor or stream, which
   * cannot commit before its last row, is refused outside a transaction.
   */
  constructor(client: pg.ClientBase, inner: Submittable, wrap: { now: boolean }, wrapWhenIdle: boolean, retry?: Retry) {
    super(inner)
    this.#client = client
    this.#wrap = wrap
    this.#wrapWhenIdle = wrapWhenIdle
    this.#retry = retry
  }

  get #wrapping(): boolean {
    return this.#wrap.now
  }

  submit(connection: PgConnection): Error | null {
    this.#wrap.now = !inTransaction(this.#client) && !isPlainBeginText(this.statement.text)
    if (!this.#wrapping) return this.statement.submit(connection) ?? null
    // A cursor, a stream, or pg's `rows` option reads its rows in pages and
    // syncs after the last one: COMMIT could not go before that Sync.
    if (!this.#wrapWhenIdle || readsInPages(this.statement)) {
      return new TenantScopeError(
        'CITUS_TRANSACTION_REQUIRED',
        'In Citus mode a cursor, a stream or a query with `rows` runs inside a transaction ' +
          '(pool.transaction(), or BEGIN on a client from pool.connect())',
      )
    }
    // Refused before anything is written: what pg's Query would refuse (the
    // ScopedQuery checks the same again, and so writes nothing after BEGIN
    // that it could refuse).
    const invalid = validateStatement(userStatementOf(this.statement), connection)
    if (invalid) return invalid
    // BEGIN now, COMMIT right before the ScopedQuery's Sync: on the
    // connection itself (no Proxy), so that what is keyed by the connection
    // (the named statements it holds) sees the same object as pg's replies.
    return corked(connection, () => {
      writeFixedStatement(connection, 'BEGIN')
      writeBeforeNextSync(connection, () => writeFixedStatement(connection, 'COMMIT'))
      try {
        return this.statement.submit(connection) ?? null
      } finally {
        // No Sync went out (refused, or pg gave up at Bind): no COMMIT may
        // ride on the next statement's Sync.
        clearBeforeNextSync(connection)
      }
    })
  }

  // pg records the active query's name as parsed on every ParseComplete:
  // BEGIN's and COMMIT's must not count for the user's named statement.
  override get name(): string | undefined {
    return this.#wrapping && (this.#completes === 0 || this.#statementDone) ? undefined : this.statement.name
  }

  override handleDataRow(message: unknown): void {
    if (!this.#wrapping || (this.#completes > 0 && !this.#statementDone)) super.handleDataRow(message)
  }

  override handleEmptyQuery(connection: PgConnection): void {
    super.handleEmptyQuery(connection)
    if (this.#wrapping && this.#completes === 2) this.#statementDone = true
  }

  override handleCommandComplete(message: unknown, connection: PgConnection): void {
    if (!this.#wrapping) {
      super.handleCommandComplete(message, connection)
      return
    }
    const index = this.#completes++
    if (index === 0 || this.#statementDone) return // BEGIN's, COMMIT's
    super.handleCommandComplete(message, connection) // the setter's (the ScopedQuery swallows it), the statement's
    if (index === 2) this.#statementDone = true
  }

  override handleError(raw: Error, connection: PgConnection): void {
    const retry = this.#retry
    // The named setter failed, or never ran after a failed BEGIN: whether the
    // connection holds it is in doubt (failed() records that). Missing or
    // duplicate after BEGIN: nothing of the user's statement ran; roll back,
    // then send it all again with the setter unnamed.
    if (retry?.prepared !== undefined && this.#wrapping && this.#completes <= 1) {
      if (retry.prepared.failed(raw) && this.#completes === 1) {
        forgetSubmittedStatement(connection, retry.statement.name)
        this.#sendAgain(retry, undefined)
        return
      }
    }
    // The user's named statement failed at Parse or Bind, after the setter:
    // it has not run. Roll back, then send it again unnamed.
    const name = retry?.statement.name
    if (retry?.statements !== undefined && name !== undefined && this.#wrapping && this.#completes === 2) {
      if (retry.statements.retryable(raw)) {
        retry.statement.name = undefined
        this.#sendAgain(retry, name)
        return
      }
    }
    const error = shardMoved(raw) ?? raw
    // Between BEGIN and COMMIT the transaction is now failed: roll it back
    // before anything else runs on this connection, then report the error.
    if (this.#wrapping && this.#completes > 0 && !this.#statementDone && isServerError(raw)) {
      queueRollback(this.#client, () => super.handleError(error, connection))
      return
    }
    super.handleError(error, connection)
  }

  // After a ROLLBACK, ahead of anything else queued on the client: the
  // setter unnamed; `close`, the user's statement's old name to close.
  #sendAgain(retry: Retry, close: string | undefined): void {
    const client = this.#client
    const again = citusStatement(client, retry.setter, retry.statement, undefined, true, undefined, {
      statements: retry.statements,
      close,
    })
    queueRollback(client, () => queueFirst(client, again))
  }
}

/**
 * @internal The Citus mode's wrapper over a user statement. `skip` is the
 * ScopedQuery's own decision inside a transaction (see skipFor in
 * run-query.ts); while wrapping, the setter always rides along. `prepared`:
 * the setter as a named statement, only where the client is idle when the
 * statement is sent (pool.query), so a failed setter can be retried.
 */
export function citusStatement(
  client: pg.ClientBase,
  setter: SetterStatement,
  statement: Submittable,
  skip: (() => boolean) | undefined,
  wrapWhenIdle = true,
  prepared?: PreparedSetterUse,
  named: NamedStatement = {},
): CitusScopedQuery {
  const wrap = { now: false }
  const { statements, close } = named
  const inner = new ScopedQuery(setter, statement, {
    skip: () => (wrap.now ? false : (skip?.() ?? false)),
    prepared,
    preparedStatement: statements,
    close,
  })
  const retry = prepared !== undefined || statements !== undefined ? { prepared, statements, setter, statement } : undefined
  return new CitusScopedQuery(client, inner, wrap, wrapWhenIdle, retry)
}

/**
 * @internal pool.query with prepareStatements: the user's statement carries
 * its name (see nameStatement in run-query.ts); `close`, a name to close
 * ahead of it (a retry).
 */
export interface NamedStatement {
  readonly statements?: PreparedStatements | undefined
  readonly close?: string | undefined
}

/** What a statement whose named setter or named statement failed needs to go again unnamed. */
interface Retry {
  readonly prepared: PreparedSetterUse | undefined
  readonly statements: PreparedStatements | undefined
  readonly setter: SetterStatement
  readonly statement: Submittable
}

// The user's statement under the ScopedQuery (its `statement`).
function userStatementOf(inner: Submittable): Submittable {
  return (inner as unknown as { statement: Submittable }).statement
}

function readsInPages(statement: Submittable): boolean {
  const inner = (statement as unknown as { statement?: { rows?: unknown } }).statement
  return Boolean(inner?.rows)
}

function inTransaction(client: pg.ClientBase): boolean {
  const state = connectionState(client)
  return state === 'T' || state === 'E'
}

// A plain BEGIN through a client goes alone (the next statement carries the
// setter); pool.transaction's BEGIN goes through ScopedBegin, never here.
function isPlainBeginText(text: unknown): boolean {
  return typeof text === 'string' && scriptShape(text).plainBeginFirst
}

/**
 * While Citus splits or moves a shard (isolate_tenant_to_new_shard,
 * citus_move_shard_placement), a statement planned against the old shard can
 * fail with an internal error that names it ("could not find valid entry for
 * shard 102031", SQLSTATE XX000). Nothing of it was committed and the same
 * statement succeeds once the metadata settled: a typed, retryable error, the
 * database's own as `cause`.
 */
function shardMoved(error: Error): TenantScopeError | undefined {
  const { code } = error as { code?: unknown }
  if (code !== 'XX000' || !/\bshard \d+\b/i.test(error.message)) return undefined
  return new TenantScopeError(
    'CITUS_SHARD_MOVED',
    "The tenant's shard was split or moved while the statement ran; it was rolled back: run the statement (or the transaction) again",
    { cause: error },
  )
}

function isServerError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'severity' in error && 'code' in error
}

// The ROLLBACK must run before whatever the caller queued behind the failed
// statement, which would otherwise meet "current transaction is aborted".
function queueRollback(client: pg.ClientBase, then: () => void): void {
  const query = new (queryClassOf(client))('ROLLBACK')
  ;(query as unknown as { callback: () => void }).callback = () => then()
  queueFirst(client, query as unknown as Submittable)
}
