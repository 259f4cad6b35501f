import type pg from 'pg'
import { type PgConnection, type Submittable, writeMessages } from './_pg-internals.js'
import type { PreparedSetterUse } from './prepared-setter.js'
import { explain, sendQuery } from './run-query.js'
import { noteCommandComplete } from './session-state.js'
import type { SetterStatement } from './setter.js'
import { TENANT_STATEMENT } from './statement-wrapper.js'

/** pg's completion callback, as pool.query's and pool.transaction's steps take it. */
export type Settle = (error: Error | null, result?: pg.QueryResult) => void

/** @internal pg's own Query (the client's pg) as a tenant's statement: see tenantQueryClass. */
export type TenantQuery = Submittable & {
  text?: string
  values?: unknown[] | undefined
  queryMode?: string | undefined
  callback: unknown
  query_timeout?: number | undefined
}
// With a named setter (see PreparedSetters): the client a retry goes on, the
// setter, its use on this connection, and its Bind and Execute serialised
// (setter-messages.ts). Fields of the query, not an object per statement.
type TenantQueryClass = new (
  input: string | pg.QueryConfig,
  values: unknown[] | undefined,
  done: Settle,
  client?: pg.ClientBase,
  setter?: SetterStatement,
  use?: PreparedSetterUse,
  messages?: Buffer,
) => TenantQuery

const tenantQueryClasses = new WeakMap<typeof pg.Query, TenantQueryClass>()
// The last one asked for: a process nearly always has one pg, and this is
// asked on every statement of pool.query, where a comparison costs less
// than a WeakMap lookup. (It holds that one pg's Query class strongly.)
let lastQuery: typeof pg.Query | undefined
let lastTenantQuery: TenantQueryClass | undefined

/**
 * @internal pg's own Query (the client's pg), as a tenant's statement, with
 * no wrapper between pg and it: pg runs it, converts its values, reads its
 * timeout and calls its callback as for any query of its own. Its command
 * tag is judged for session state (session-state.ts), and the
 * ParameterStatus messages it causes mark the connection (TENANT_STATEMENT,
 * read in connection-state.ts).
 *
 * With a named setter (pool.query's common case and pool.transaction's plain
 * BEGIN, see pool-statement.ts) it writes the setter's Bind and Execute
 * ahead of its own messages, in the same packet, and skips the setter's
 * replies: the pipeline of ScopedQuery. Without one it is a statement inside
 * a transaction that has the setting (in-transaction.ts).
 *
 * One class for both, and for every statement of those paths: pg's Client
 * and Query call the query object's methods and read its fields at a
 * handful of places, and each further class seen there makes them slower
 * for every statement (V8's inline caches turn polymorphic). One subclass
 * per pg Query class.
 */
export function tenantQueryClass(Query: typeof pg.Query): TenantQueryClass {
  if (Query === lastQuery) return lastTenantQuery!
  let TenantQueryOfPg = tenantQueryClasses.get(Query)
  if (TenantQueryOfPg === undefined) {
    TenantQueryOfPg = defineTenantQuery(Query)
    tenantQueryClasses.set(Query, TenantQueryOfPg)
  }
  lastQuery = Query
  lastTenantQuery = TenantQueryOfPg
  return TenantQueryOfPg
}

function defineTenantQuery(Query: typeof pg.Query): TenantQueryClass {
  type PgQuery = TenantQuery & {
    text: string
    _result: unknown
    _results: unknown
    handleDataRow(message: unknown): void
    handleCommandComplete(message: unknown, connection: PgConnection): void
    handleError(error: Error, connection: PgConnection): void
    handleReadyForQuery(connection: PgConnection): void
    submit(connection: PgConnection): Error | null | void
  }
  const Base = Query as unknown as new (input: string | pg.QueryConfig) => PgQuery
  class TenantQueryOfThisPg extends Base {
    // True from the start without a setter: every reply is the statement's.
    #setterApplied: boolean
    readonly #done: Settle
    readonly #client: pg.ClientBase | undefined
    readonly #setter: SetterStatement | undefined
    readonly #use: PreparedSetterUse | undefined
    readonly #messages: Buffer | undefined

    constructor(
      input: string | pg.QueryConfig,
      values: unknown[] | undefined,
      done: Settle,
      client?: pg.ClientBase,
      setter?: SetterStatement,
      use?: PreparedSetterUse,
      messages?: Buffer,
    ) {
      // Neither the values nor the callback go through pg's constructor:
      // before pg 8.23 it writes them into the caller's config object (a
      // config shared with a plain client would then carry this callback, a
      // frozen one throws).
      super(input)
      if (values) this.values = values
      this.callback = done
      this.#done = done
      this.#client = client
      this.#setter = setter
      this.#use = use
      this.#messages = messages
      this.#setterApplied = messages === undefined
      // Parse/Bind/Execute even without values: the setter shares the pipeline.
      if (messages !== undefined) this.queryMode = 'extended'
    }

    // One packet: the socket is corked around the setter and the statement.
    override submit(connection: PgConnection): Error | null {
      const messages = this.#messages
      if (messages === undefined) return super.submit(connection) ?? null
      const use = this.#use!
      const { stream } = connection
      stream.cork?.()
      try {
        if (use.parse) connection.parse({ text: this.#setter!.text, name: use.name })
        writeMessages(connection, messages)
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
        this.#use!.applied()
      }
    }

    override handleError(error: Error, connection: PgConnection): void {
      // A named setter that failed before the statement ran (nothing after
      // an error runs until Sync): pg has let go of this query; the
      // statement goes again behind it, with the setter unnamed.
      if (!this.#setterApplied && this.#use!.failed(error)) {
        sendQuery(this.#client!, this.#setter!, this.text, this.values, {}, this.#done)
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
  Object.defineProperty(TenantQueryOfThisPg.prototype, TENANT_STATEMENT, { value: true })
  return TenantQueryOfThisPg as unknown as TenantQueryClass
}
