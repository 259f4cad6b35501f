import { AsyncResource } from 'node:async_hooks'
import type pg from 'pg'
import { type PgConnection, queryClassOf, queueFirst, type Submittable } from './_pg-internals.js'
import { bindEmit, bindListener, type EventTarget } from './bound-listener.js'
import { connectionState } from './connection-state.js'
import { noteCommandComplete } from './session-state.js'
import type { SetterStatement } from './setter.js'
import { StatementWrapper } from './statement-wrapper.js'

type Method = (...args: any[]) => unknown

const ADD_LISTENER = new Set<PropertyKey>(['on', 'addListener', 'prependListener', 'once', 'prependOnceListener'])
// Extended-protocol messages: after one of them fails, PostgreSQL skips
// everything up to the next Sync.
const EXTENDED = new Set<PropertyKey>(['parse', 'bind', 'describe', 'execute', 'close', 'flush'])

/**
 * @internal Runs a user's query object (pg-cursor, pg-query-stream,
 * pg-copy-streams, a pg.Query) after the tenant setter:
 *
 *   Parse/Bind/Execute(setter)  Flush   ...   the query object's own messages
 *
 * in the same implicit transaction (no Sync in between). The query object is
 * submitted only once the setter has completed, so it starts on a connection
 * whose replies are all its own, exactly as when pg runs it alone: COPY TO,
 * which reads the socket itself, never sees the setter's replies; a query
 * object without `text` (pg-query-stream keeps it on `.cursor`) is not
 * second-guessed. That costs one round trip more than a pipeline, for query
 * objects only (pool.query and client.query(text) keep the pipeline).
 *
 * If the setter fails, the query object never runs and gets the error; a
 * Sync ends the pipeline, so the connection is idle again and no later
 * borrower waits for a reply that never comes. The same holds when the query
 * object fails mid-way in the extended protocol and sends no Sync itself.
 *
 * Everything pg calls on the query object, and every event it emits, runs in
 * the async context it was submitted in (not the socket's, which is the
 * context the connection was opened in); listeners it adds to the connection
 * run in the context they were added in.
 */
export class ScopedSubmittable extends StatementWrapper {
  readonly #setter: SetterStatement
  readonly #skip: () => boolean
  readonly #resource = new AsyncResource('tenantscope:query')
  #connection: PgConnection | undefined
  #submitted = false
  #refusal: Error | undefined
  #failed = false
  // Extended messages are on the wire without a Sync after them.
  #owesSync = false
  #syncedSinceError = true
  /** The setter opened an implicit transaction on an idle connection. */
  #opened = false
  readonly #client: pg.ClientBase | undefined

  /** `skip`, asked when the statement is sent: true sends it without the setter. */
  constructor(setter: SetterStatement, statement: Submittable, skip: () => boolean, client?: pg.ClientBase) {
    super(statement)
    this.#client = client
    this.#setter = setter
    this.#skip = skip
    // pg reads a per-query timeout from the object it runs.
    this.query_timeout = (statement as { query_timeout?: number }).query_timeout
    bindEmit(statement, this.#resource)
  }

  // pg records `name` as parsed on a ParseComplete: hidden while the setter's replies come in.
  override get name(): string | undefined {
    return this.#submitted ? this.statement.name : undefined
  }

  submit(connection: PgConnection): Error | null {
    this.#connection = this.#track(connection)
    if (this.#skip()) return this.#submitStatement()
    // A pg.Query: one statement per Parse, as on client.query(text), so that
    // a script cannot COMMIT and go on without the tenant.
    this.useExtendedProtocol()
    this.#owesSync = true
    this.#opened = this.#client !== undefined && connectionState(this.#client) === 'I'
    connection.stream.cork?.()
    try {
      this.writeSetter(connection, this.#setter)
      connection.flush()
    } finally {
      connection.stream.uncork?.()
    }
    return null
  }

  override handleRowDescription(message: unknown): void {
    if (this.#submitted) this.#run(() => this.statement.handleRowDescription?.(message))
  }

  override handleDataRow(message: unknown): void {
    if (this.#submitted) this.#run(() => this.statement.handleDataRow?.(message))
  }

  override handleCommandComplete(message: unknown, connection: PgConnection): void {
    if (this.#submitted) {
      noteCommandComplete(connection, message, this.statement.text)
      this.#run(() => this.statement.handleCommandComplete?.(message, this.#connection!))
      return
    }
    // The setter ran: now the query object, in the same transaction (unless
    // it already failed, as on a query_timeout that fired during the setter).
    if (this.#failed) return
    const refusal = this.#submitStatement()
    if (refusal) {
      // Delivered with the ReadyForQuery, once the connection is idle again.
      this.#refusal = refusal
      this.#syncIfOwed(connection)
    }
  }

  override handleError(error: Error, connection: PgConnection): void {
    // The query object already has its error and never ran: nothing more
    // reaches it (pg also reports a timeout, then the connection's end).
    if (this.#failed && !this.#submitted) return
    // An extended message failed (the setter, or one of the query object's):
    // PostgreSQL now skips everything up to a Sync, and pg waits for the
    // ReadyForQuery that answers it. After a simple Query, it comes anyway.
    const skipping = this.#owesSync
    this.#failed = true
    this.#syncedSinceError = false
    this.#run(() => this.statement.handleError?.(error, this.#connection ?? connection))
    // Unless the query object sent a Sync itself (pg-cursor does), send one.
    if (skipping && !this.#syncedSinceError) {
      this.#owesSync = false
      connection.sync()
    }
  }

  override handleReadyForQuery(connection: PgConnection): void {
    this.#endImplicitTransaction()
    if (this.#failed && !this.#submitted) return
    const refusal = this.#refusal
    if (refusal) {
      this.#refusal = undefined
      this.#run(() => this.statement.handleError?.(refusal, this.#connection ?? connection))
    } else {
      this.#run(() => this.statement.handleReadyForQuery?.(this.#connection ?? connection))
    }
  }

  override handleEmptyQuery(connection: PgConnection): void {
    this.#run(() => this.statement.handleEmptyQuery?.(this.#connection ?? connection))
  }

  override handlePortalSuspended(connection: PgConnection): void {
    this.#run(() => this.statement.handlePortalSuspended?.(this.#connection ?? connection))
  }

  override handleCopyInResponse(connection: PgConnection): void {
    this.#run(() => this.statement.handleCopyInResponse?.(this.#connection ?? connection))
  }

  override handleCopyData(message: unknown, connection: PgConnection): void {
    this.#run(() => this.statement.handleCopyData?.(message, this.#connection ?? connection))
  }

  // A query object that speaks the simple protocol (pg-copy-streams' COPY)
  // after the setter's extended messages: PostgreSQL 15 ends the implicit
  // transaction with the simple Query, PostgreSQL 18 leaves it open until a
  // Sync. Left open, the client's next statements would run inside it and be
  // rolled back at release. It is ended here, ahead of anything queued.
  #endImplicitTransaction(): void {
    if (!this.#opened || this.#client === undefined) return
    this.#opened = false
    const state = connectionState(this.#client)
    if (state !== 'T' && state !== 'E') return
    const end = new (queryClassOf(this.#client))(state === 'T' ? 'COMMIT' : 'ROLLBACK')
    ;(end as unknown as { callback: () => void }).callback = () => undefined
    queueFirst(this.#client, end as unknown as Submittable)
  }

  #submitStatement(): Error | null {
    this.#submitted = true
    return this.#run(() => this.statement.submit(this.#connection!) ?? null)
  }

  #syncIfOwed(connection: PgConnection): void {
    if (!this.#owesSync) return
    this.#owesSync = false
    connection.sync()
  }

  #run<T>(fn: () => T): T {
    return this.#resource.runInAsyncScope(fn)
  }

  // The connection as the query object sees it: listeners it adds run in the
  // context they were added in, and its Syncs are counted.
  #track(connection: PgConnection): PgConnection {
    const methods = new Map<PropertyKey, Method>()
    return new Proxy(connection, {
      get: (target, property) => {
        const value: unknown = Reflect.get(target, property)
        if (typeof value !== 'function') return value
        let method = methods.get(property)
        if (method === undefined) methods.set(property, (method = this.#method(target, property, value as Method)))
        return method
      },
    })
  }

  #method(target: PgConnection, property: PropertyKey, method: Method): Method {
    if (ADD_LISTENER.has(property)) {
      const once = property === 'once' || property === 'prependOnceListener'
      const add = (property === 'prependListener' || property === 'prependOnceListener' ? 'prependListener' : 'on') as 'on'
      const emitter = target as unknown as EventTarget & Record<'on', Method>
      return (event: string | symbol, listener: Method) => emitter[add](event, bindListener(emitter, event, listener, once))
    }
    if (property === 'sync' || property === 'query') {
      // A Sync, or a simple Query (answered with its own ReadyForQuery).
      return (...args) => {
        this.#owesSync = false
        if (property === 'sync') this.#syncedSinceError = true
        return method.apply(target, args)
      }
    }
    if (EXTENDED.has(property)) {
      return (...args) => {
        this.#owesSync = true
        return method.apply(target, args)
      }
    }
    return method.bind(target)
  }
}
