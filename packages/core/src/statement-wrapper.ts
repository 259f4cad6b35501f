import { type PgConnection, type Submittable, useExtendedProtocol, writeMessages, writeStatement } from './_pg-internals.js'
import type { PreparedSetterUse } from './prepared-setter.js'
import { noteCommandComplete } from './session-state.js'
import type { SetterStatement } from './setter.js'

/**
 * @internal Marks a query object that runs a tenant's statement (every
 * StatementWrapper, and pg's own Query on the direct path inside a
 * transaction, see in-transaction.ts): the ParameterStatus messages it
 * causes are judged as session state (connection-state.ts), where those of
 * a plain pg query (a pool's 'connect' hook) are not.
 */
export const TENANT_STATEMENT: unique symbol = Symbol('tenantscope.tenantStatement')

/** @internal Is `query` (the query pg is running) a tenant's statement? */
export function isTenantStatement(query: unknown): boolean {
  return (query as { [TENANT_STATEMENT]?: unknown } | null | undefined)?.[TENANT_STATEMENT] === true
}

/**
 * @internal A pg query object that wraps another one (pg's own Query, or a
 * user submittable such as a cursor) and adds messages around it. By default
 * it forwards everything pg's Client reads, writes and calls; subclasses
 * decide which replies belong to the messages they added.
 */
export abstract class StatementWrapper implements Submittable {
  /** FINISHED once pg is done with this object (see handleReadyForQuery). */
  protected statement: Submittable
  /** pg's Client reads a per-query timeout from the object it runs. */
  query_timeout: number | undefined
  /**
   * The completion callback, as a plain own property of the object pg runs:
   * pg's Client swaps it for its timeout, and tracers such as
   * @opentelemetry/instrumentation-pg find it only as an own property (they
   * copy the query object's own properties) to end their span. The wrapped
   * statement calls whatever is here at the time it completes.
   */
  callback: unknown

  constructor(statement: Submittable) {
    this.statement = statement
    const { callback } = statement
    this.callback = callback
    if (typeof callback === 'function') {
      // Called as the wrapper's method, as pg calls the callback of the
      // object it runs; nothing once the wrapper is finished.
      statement.callback = (error: unknown, result: unknown) => {
        if (typeof this.callback === 'function') this.callback(error, result)
      }
    }
  }

  abstract submit(connection: PgConnection): Error | null

  /**
   * Writes the setter's Parse (unless it is a named statement the connection
   * already holds), Bind and Execute; its replies are the subclass's to swallow.
   */
  protected writeSetter(connection: PgConnection, setter: SetterStatement, prepared?: PreparedSetterUse): void {
    // Named (see prepared-setter.ts): parsed once per server connection, and
    // its Bind and Execute serialised once per tenant (setter-messages.ts).
    const messages = prepared?.messages(setter)
    if (messages !== undefined) {
      if (prepared!.parse) connection.parse({ text: setter.text, name: prepared!.name })
      writeMessages(connection, messages)
      return
    }
    writeStatement(connection, { text: setter.text, values: setter.values, name: prepared?.name, parse: prepared?.parse ?? true })
  }

  /** A simple-protocol query cannot share a pipeline: switch pg's Query to Parse/Bind/Execute. */
  protected useExtendedProtocol(): void {
    useExtendedProtocol(this.statement)
  }

  get name(): string | undefined {
    return this.statement.name
  }
  get text(): string | undefined {
    return this.statement.text
  }
  // pg's Client reads and writes these on the query it runs.
  get _result(): unknown {
    return this.statement._result
  }
  get binary(): boolean | undefined {
    return this.statement.binary
  }
  set binary(value: boolean | undefined) {
    this.statement.binary = value
  }

  handleRowDescription(message: unknown): void {
    this.statement.handleRowDescription?.(message)
  }
  handleDataRow(message: unknown): void {
    this.statement.handleDataRow?.(message)
  }
  handleCommandComplete(message: unknown, connection: PgConnection): void {
    noteCommandComplete(connection, message, this.statement.text)
    this.statement.handleCommandComplete?.(message, connection)
  }
  handleEmptyQuery(connection: PgConnection): void {
    this.statement.handleEmptyQuery?.(connection)
  }
  handlePortalSuspended(connection: PgConnection): void {
    this.statement.handlePortalSuspended?.(connection)
  }
  handleError(error: Error, connection: PgConnection): void {
    this.statement.handleError?.(error, connection)
  }
  /**
   * The statement's last message: pg hands this object nothing more (an
   * ErrorResponse before it already made pg drop the object). The wrapper
   * then lets go of the statement and the callback, and so of the result.
   *
   * Why: whatever still points at a finished query object (V8's minor GC
   * keeps young objects alive from any old object, live or not; which one
   * did was not found) keeps its result alive through minor GCs. Measured
   * on Node 20 with one wrapper per query: during warm-up every result
   * survived, V8 then allocated pg's `rows` arrays in the old generation for
   * the rest of the process, and every row was promoted (2.8 KB per top-10
   * read, against 2 bytes for a client without the wrapper, and a quarter
   * more client CPU per read). See packages/bench/README.md.
   */
  handleReadyForQuery(connection: PgConnection): void {
    this.statement.handleReadyForQuery?.(connection)
    this.statement = FINISHED
    this.callback = undefined
  }
  handleCopyInResponse(connection: PgConnection): void {
    this.statement.handleCopyInResponse?.(connection)
  }
  handleCopyData(message: unknown, connection: PgConnection): void {
    this.statement.handleCopyData?.(message, connection)
  }
}

Object.defineProperty(StatementWrapper.prototype, TENANT_STATEMENT, { value: true })

// What a finished wrapper holds in place of its statement: no text, no
// name, no result; pg never submits it again.
const FINISHED: Submittable = Object.freeze({
  submit: () => new Error('This query has already run'),
})
