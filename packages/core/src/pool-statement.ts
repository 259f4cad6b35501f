import type pg from 'pg'
import { type PgConnection, queryClassOf, type Submittable, writeMessages } from './_pg-internals.js'
import type { PreparedSetterUse } from './prepared-setter.js'
import { explain, isObjectValue, type RunOptions, sendQuery } from './run-query.js'
import { noteCommandComplete } from './session-state.js'
import type { SetterStatement } from './setter.js'
import { mayCallRoutine } from './statement-kind.js'
import { TENANT_STATEMENT } from './statement-wrapper.js'

type Done = (error: Error | null, result?: pg.QueryResult, unsent?: boolean) => void

/**
 * @internal The common case of pool.query, sent as pg's own Query with the
 * named setter ahead of it: the same pipeline as ScopedQuery's,
 *
 *   Bind/Execute(named setter)  Parse/Bind/Describe/Execute(statement)  Sync
 *
 * without the wrapper around pg's Query. No object between pg and the
 * statement forwards each reply, no closure per step: pg runs it, converts
 * its values and calls its callback as for any query of its own, and the
 * setter's replies are skipped here. What ScopedQuery does besides (named
 * user statements, a CALL or DO, a query config, Citus mode, values whose
 * conversion may throw, the unnamed setter) goes the general way.
 * One subclass per pg Query class, as in in-transaction.ts.
 *
 * Returns false, having sent nothing, where the case is not the common one.
 */
export function sendPoolStatement(
  client: pg.ClientBase,
  setter: SetterStatement,
  input: unknown,
  values: unknown[] | undefined,
  options: RunOptions,
  done: Done,
): boolean {
  if (options.citus || options.statements !== undefined || typeof input !== 'string' || mayCallRoutine(input)) return false
  // Only values that pg's Bind converts without running any code of theirs:
  // the general path converts the others before anything is written (see
  // serialiseValues in run-query.ts).
  if (values !== undefined && (!Array.isArray(values) || values.some(isObjectValue))) return false
  const use = options.prepared?.use(client, setter)
  const messages = use?.messages(setter)
  if (messages === undefined) return false
  const Statement = poolStatementClass(queryClassOf(client))
  client.query(new Statement(input, values, client, setter, use!, messages, done) as unknown as pg.QueryConfig)
  return true
}

type PgQuery = Submittable & {
  text: string
  values: unknown[] | undefined
  queryMode: string | undefined
  callback: unknown
  _result: unknown
  _results: unknown
  handleDataRow(message: unknown): void
  handleCommandComplete(message: unknown, connection: PgConnection): void
  handleError(error: Error, connection: PgConnection): void
  handleReadyForQuery(connection: PgConnection): void
  submit(connection: PgConnection): Error | null | void
}
type PoolStatementClass = new (
  text: string,
  values: unknown[] | undefined,
  client: pg.ClientBase,
  setter: SetterStatement,
  use: PreparedSetterUse,
  messages: Buffer,
  done: Done,
) => PgQuery

const poolStatementClasses = new WeakMap<typeof pg.Query, PoolStatementClass>()

function poolStatementClass(Query: typeof pg.Query): PoolStatementClass {
  let PoolStatement = poolStatementClasses.get(Query)
  if (PoolStatement !== undefined) return PoolStatement
  const Base = Query as unknown as new (text: string, values?: unknown[]) => PgQuery
  class PoolStatementOfPg extends Base {
    #setterApplied = false
    readonly #client: pg.ClientBase
    readonly #setter: SetterStatement
    readonly #use: PreparedSetterUse
    readonly #messages: Buffer
    readonly #done: Done

    constructor(
      text: string,
      values: unknown[] | undefined,
      client: pg.ClientBase,
      setter: SetterStatement,
      use: PreparedSetterUse,
      messages: Buffer,
      done: Done,
    ) {
      super(text, values)
      // Parse/Bind/Execute even without values: the setter shares the pipeline.
      this.queryMode = 'extended'
      this.callback = done
      this.#client = client
      this.#setter = setter
      this.#use = use
      this.#messages = messages
      this.#done = done
    }

    // One packet: the socket is corked around both (as in corked(), without its closure).
    override submit(connection: PgConnection): Error | null {
      const { stream } = connection
      stream.cork?.()
      try {
        if (this.#use.parse) connection.parse({ text: this.#setter.text, name: this.#use.name })
        writeMessages(connection, this.#messages)
        return super.submit(connection) ?? null
      } finally {
        stream.uncork?.()
      }
    }

    override handleDataRow(message: unknown): void {
      if (this.#setterApplied) super.handleDataRow(message)
    }

    override handleCommandComplete(message: unknown, connection: PgConnection): void {
      if (this.#setterApplied) {
        noteCommandComplete(connection, message, this.text)
        super.handleCommandComplete(message, connection)
      } else {
        this.#setterApplied = true
        this.#use.applied()
      }
    }

    override handleError(error: Error, connection: PgConnection): void {
      // A named setter that failed before the statement ran (nothing after
      // an error runs until Sync): pg has let go of this query; the
      // statement goes again behind it, with the setter unnamed.
      if (!this.#setterApplied && this.#use.failed(error)) {
        sendQuery(this.#client, this.#setter, this.text, this.values, {}, this.#done)
        return
      }
      super.handleError(explain(error), connection)
    }

    // pg is done with it. Its result is the caller's now: nothing that
    // still points at this object keeps the rows alive (see
    // StatementWrapper.handleReadyForQuery).
    override handleReadyForQuery(connection: PgConnection): void {
      super.handleReadyForQuery(connection)
      this._result = this._results = undefined
    }
  }
  Object.defineProperty(PoolStatementOfPg.prototype, TENANT_STATEMENT, { value: true })
  PoolStatement = PoolStatementOfPg as unknown as PoolStatementClass
  poolStatementClasses.set(Query, PoolStatement)
  return PoolStatement
}
