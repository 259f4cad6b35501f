import type pg from 'pg'
import { corked, forgetSubmittedStatement, type PgConnection, parsedStatementText, type Submittable } from './_pg-internals.js'
import type { PreparedSetterUse } from './prepared-setter.js'
import type { PreparedStatements } from './prepared-statements.js'
import type { SetterStatement } from './setter.js'
import { StatementWrapper } from './statement-wrapper.js'

/**
 * @internal A custom pg query object that sends the tenant setter and the
 * user's statement in one extended-protocol pipeline closed by one Sync:
 *
 *   Parse/Bind/Execute(setter)  Parse/Bind/Describe/Execute(statement)  Sync
 *
 * PostgreSQL runs everything before a Sync as one implicit transaction, so
 * the transaction-local setting applies to the statement and is gone after
 * it: one network round trip, nothing left on the connection. If the
 * statement is BEGIN, the implicit transaction becomes the explicit one and
 * the setting lasts until its COMMIT or ROLLBACK.
 *
 * Replies to the setter (ParseComplete, BindComplete, one DataRow,
 * CommandComplete) are swallowed; everything after goes to the wrapped
 * query, which is pg's own Query, so results come out exactly as pg makes
 * them. (A user's query object, such as a cursor, goes through
 * ScopedSubmittable instead: it is sent only once the setter has completed.)
 */
export interface ScopedQueryOptions {
  /** Named setter (see prepared-setter.ts). */
  prepared?: PreparedSetterUse | undefined
  /**
   * With `prepared` or `preparedStatement`: the client a retry is queued on
   * (only where nothing else can be queued behind this statement: a retry
   * joins the back of pg's queue).
   */
  client?: pg.ClientBase | undefined
  /** Asked when the statement is sent: true sends it without the setter. */
  skip?: (() => boolean) | undefined
  /**
   * The user's statement is named (prepareStatements, see
   * prepared-statements.ts). A retry sends it unnamed.
   */
  preparedStatement?: PreparedStatements | undefined
  /** Named statements to close on the server ahead of the setter (a retry after a failed named statement). */
  close?: string | undefined
}

export class ScopedQuery extends StatementWrapper {
  #settingApplied = false
  readonly #setter: SetterStatement
  readonly #prepared: PreparedSetterUse | undefined
  readonly #skip: (() => boolean) | undefined
  readonly #preparedStatement: PreparedStatements | undefined
  readonly #close: string | undefined
  readonly #client: pg.ClientBase | undefined

  constructor(setter: SetterStatement, statement: Submittable, options: ScopedQueryOptions = NO_OPTIONS) {
    super(statement)
    this.#setter = setter
    this.#prepared = options.prepared
    this.#skip = options.skip
    this.#preparedStatement = options.preparedStatement
    this.#close = options.close
    this.#client = options.client
  }

  // pg records `name` as parsed on every ParseComplete: hide it until the
  // setter's ParseComplete has gone by, or a named statement would be marked
  // parsed before its own Parse succeeded.
  override get name(): string | undefined {
    return this.#settingApplied ? this.statement.name : undefined
  }

  submit(connection: PgConnection): Error | null {
    if (this.#skip?.()) {
      // Inside a transaction its BEGIN already carried the setting.
      this.#settingApplied = true
      return this.statement.submit(connection) ?? null
    }
    // Refuse what pg's Query would refuse *before* writing the setter: an
    // error returned after it would leave an open pipeline that the next
    // query on this connection would join.
    const invalid = validateStatement(this.statement, connection)
    if (invalid) return invalid

    this.useExtendedProtocol()
    return corked(connection, () => {
      const name = this.statement.name
      if (this.#close !== undefined) this.#preparedStatement?.forget(connection, this.#close)
      else if (name !== undefined && this.#preparedStatement) this.#preparedStatement.admit(connection, name)
      this.writeSetter(connection, this.#setter, this.#prepared)
      return this.statement.submit(connection) ?? null
    })
  }

  override handleDataRow(message: unknown): void {
    if (this.#settingApplied) super.handleDataRow(message)
  }

  override handleCommandComplete(message: unknown, connection: PgConnection): void {
    if (this.#settingApplied) {
      this.#preparedStatement?.succeeded()
      super.handleCommandComplete(message, connection)
    } else {
      this.#settingApplied = true
      this.#prepared?.applied()
    }
  }

  override handleError(error: Error, connection: PgConnection): void {
    if (!this.#settingApplied) {
      // The setter failed, so the statement's Parse never ran: pg cannot
      // forget a named statement it thinks is on the wire (it asks our name,
      // still hidden), so forget it here.
      forgetSubmittedStatement(connection, this.statement.name)
      // A named setter that failed before the statement ran (nothing after an
      // error runs until Sync) is sent again, unnamed: the statement never sees it.
      if (this.#client !== undefined && this.#prepared?.failed(error)) {
        this.#retry(undefined)
        return
      }
    } else if (this.#preparedStatement !== undefined && this.statement.name !== undefined) {
      if (this.#retryStatement(error)) return
      this.#preparedStatement.failed(connection, this.statement.name)
    }
    super.handleError(error, connection)
  }

  // The user's named statement failed at Parse or Bind, before it executed
  // (missing, already there, or its result type changed): in pool.query's
  // implicit transaction nothing happened, so it goes again, unnamed, with a
  // Close of the name ahead of it so the next use parses it afresh.
  #retryStatement(error: Error): boolean {
    if (this.#client === undefined || !this.#preparedStatement!.retryable(error)) return false
    const name = this.statement.name
    this.statement.name = undefined
    this.#retry(name)
    return true
  }

  // Sends the statement again, with the unnamed setter, behind what pg
  // already queued (nothing, where a retry is allowed: see `client`).
  #retry(close: string | undefined): void {
    const again = new ScopedQuery(this.#setter, this.statement, { preparedStatement: this.#preparedStatement, close, client: this.#client })
    this.#client!.query(again as unknown as pg.QueryConfig)
  }
}

const NO_OPTIONS: ScopedQueryOptions = {}

/** @internal What pg's Query would refuse, checked before anything is written. */
export function validateStatement(statement: Submittable, connection: PgConnection): Error | null {
  const { name, text, values } = statement
  if (typeof text !== 'string' && typeof name !== 'string') {
    return new Error('A query must have either text or a name. Supplying neither is unsupported.')
  }
  if (values !== undefined && values !== null && !Array.isArray(values)) {
    return new Error('Query values must be an array')
  }
  const previous = name ? parsedStatementText(connection, name) : undefined
  if (text && previous && previous !== text) {
    return new Error(`Prepared statements must be unique - '${name}' was used for a different statement`)
  }
  return null
}
