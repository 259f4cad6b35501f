import pg from 'pg'

/**
 * @internal Every use of node-postgres's private API goes through this file:
 * the Connection's message writers and fields, the Client's query queue and
 * transaction status, and the protocol between a Client and the query object
 * it runs (the "submittable" interface that pg-cursor uses).
 *
 * Read from pg 8.12.0, 8.16.3 and 8.23.1 (lib/client.js, lib/connection.js,
 * lib/query.js). test/pg/pg-versions.test.ts runs the contract suite on each
 * of them; the peer range is `>=8.12.0 <9`. 8.12.0 is the floor: its Query
 * took `queryMode: 'extended'`, which the setter's pipeline needs for a
 * statement without parameters (on 8.7.3 such a statement went by the simple
 * protocol and, after a plain BEGIN, ran without the setting). Whoever
 * upgrades pg reads this file and adds the new version to that test.
 */
export interface PgConnection {
  parse(config: { text: string; name?: string; types?: unknown[] }): void
  bind(config: { values: readonly unknown[]; portal?: string; statement?: string }): void
  execute(config: { portal?: string; rows?: number }): void
  sync(): void
  flush(): void
  close(config: { type: 'S' | 'P'; name: string }): void
  stream: { cork?: () => void; uncork?: () => void }
  /** Named statements parsed on this connection: name → text. */
  parsedStatements: Record<string, string>
  /** Newer pg (8.23.1, not 8.16.3): named statements whose Parse is on the wire. */
  submittedNamedStatements?: Record<string, string>
  prependListener(event: 'readyForQuery', listener: (message: { status: string }) => void): unknown
}

/** @internal What pg's Client calls on the query it is running. */
export interface Submittable {
  submit(connection: PgConnection): Error | null | void
  handleRowDescription?(message: unknown): void
  handleDataRow?(message: unknown): void
  handleCommandComplete?(message: unknown, connection: PgConnection): void
  handleEmptyQuery?(connection: PgConnection): void
  handlePortalSuspended?(connection: PgConnection): void
  handleError?(error: Error, connection: PgConnection): void
  handleReadyForQuery?(connection: PgConnection): void
  handleCopyInResponse?(connection: PgConnection): void
  handleCopyData?(message: unknown, connection: PgConnection): void
  name?: string
  text?: string
  values?: unknown
  callback?: unknown
  binary?: boolean
  /** pg's Query: 'extended' forces Parse/Bind/Execute even without values. */
  queryMode?: string
  _result?: unknown
}

/**
 * @internal Calls `onSync` whenever pg writes a Sync or a simple Query on
 * this connection: each is answered by one ReadyForQuery (a Query only while
 * the server is not skipping to a Sync after an extended-protocol error).
 * Read from pg 8.12 to 8.23 (Connection#sync and Connection#query).
 */
export function watchSyncs(connection: PgConnection, onSync: () => void): void {
  const target = connection as unknown as Record<'sync' | 'query', (argument?: unknown) => unknown>
  for (const name of ['sync', 'query'] as const) {
    const write = target[name]
    if (typeof write !== 'function') continue
    // One argument at most (sync() takes none, query(text) one): no rest
    // array and apply on every statement.
    target[name] = function (this: unknown, argument?: unknown) {
      onSync()
      return write.call(this, argument)
    }
  }
}

/**
 * @internal False while pg waits for a ReadyForQuery before it sends the
 * next query (Client#readyForQuery, pg 8.12 to 8.23).
 */
export function isReadyForQuery(client: object): boolean {
  return (client as { readyForQuery?: unknown }).readyForQuery !== false
}

// The Client fields read here. Between 8.16.3 and 8.23.1 pg renamed
// activeQuery and queryQueue with a leading underscore (the old names became
// deprecated getters) and added getTransactionStatus() and the pipeline mode.
interface ClientInternals {
  connection?: PgConnection
  _activeQuery?: unknown
  activeQuery?: unknown
  _queryQueue?: unknown[]
  queryQueue?: unknown[]
  _queryable?: boolean
  pipeline?: boolean
  getTransactionStatus?: () => string | null
  constructor: { Query?: typeof pg.Query }
}

type AnyClient = pg.ClientBase | object

function internals(client: AnyClient): ClientInternals {
  return client as unknown as ClientInternals
}

/** @internal The client's Connection, or undefined for a client that is not pg's (pg-native, a fake). */
export function connectionOf(client: AnyClient): PgConnection | undefined {
  const connection = internals(client).connection
  return typeof connection?.prependListener === 'function' ? connection : undefined
}

/**
 * @internal The Query class of the pg that made this client (every pg 8 sets
 * `Client.Query`), so that a statement is built by the same pg version that
 * runs it, whichever copy of pg this package resolved.
 */
export function queryClassOf(client: AnyClient): typeof pg.Query {
  return internals(client).constructor.Query ?? pg.Query
}

const queryModeSupport = new WeakMap<object, boolean>()

/** @internal pg ≥ 8.12: its Query can be switched to the extended protocol (see useExtendedProtocol). */
export function supportsExtendedQueryMode(client: AnyClient): boolean {
  const Query = queryClassOf(client)
  let supported = queryModeSupport.get(Query)
  if (supported === undefined) {
    supported = 'queryMode' in new Query({ text: '', queryMode: 'extended' } as pg.QueryConfig)
    queryModeSupport.set(Query, supported)
  }
  return supported
}

/** @internal The last ReadyForQuery status ('I', 'T', 'E'); 'I' where pg does not keep it (8.16.3 and older). */
export function transactionStatusOf(client: AnyClient): string {
  return internals(client).getTransactionStatus?.() ?? 'I'
}

/**
 * @internal Calls `listener` on every ReadyForQuery, before pg starts the
 * next queued query. Where pg's Client is the only listener (as it is), the
 * two are folded into one: an event with two listeners costs a copy of the
 * listener array on every emit, once per statement.
 */
export function onReadyForQuery(connection: PgConnection, listener: (status: string) => void): void {
  const events = connection as unknown as {
    rawListeners(event: string): Array<(message: { status: string }) => unknown>
    removeListener(event: string, listener: (message: { status: string }) => unknown): unknown
    on(event: string, listener: (message: { status: string }) => unknown): unknown
  }
  const existing = typeof events.rawListeners === 'function' ? events.rawListeners('readyForQuery') : []
  if (existing.length !== 1) {
    connection.prependListener('readyForQuery', (message) => listener(message.status))
    return
  }
  const pgListener = existing[0]!
  events.removeListener('readyForQuery', pgListener)
  events.on('readyForQuery', function (this: unknown, message) {
    listener(message.status)
    return pgListener.call(this, message)
  })
}

/** @internal The query object pg is running on this client, if any. */
export function activeQueryOf(client: AnyClient): unknown {
  const c = internals(client)
  return '_activeQuery' in c ? c._activeQuery : c.activeQuery
}

/**
 * @internal A statement still running or queued, or a dead socket. (After an
 * error pg clears the active query before the ReadyForQuery arrives; the next
 * statement waits for it, so that window is safe.)
 */
export function isClientBusy(client: AnyClient): boolean {
  const c = internals(client)
  const active = activeQueryOf(client)
  const queue = c._queryQueue ?? c.queryQueue
  return Boolean(active) || (queue?.length ?? 0) > 0 || c._queryable === false
}

/**
 * @internal pg's `pipeline: true` client mode (in 8.23.1, not in 8.16.3): pg
 * refuses custom query objects there, and the setter travels in one.
 */
export function usesPipelineMode(clientOrConfig: unknown): boolean {
  return Boolean((clientOrConfig as { pipeline?: unknown } | null | undefined)?.pipeline)
}

/** @internal Queues `query` ahead of everything already queued on the client (pg runs its queue in order). */
export function queueFirst(client: AnyClient, query: Submittable): void {
  const c = internals(client)
  ;(c._queryQueue ?? c.queryQueue)?.unshift(query)
}

/** @internal A query object (pg-cursor, pg-query-stream...) rather than text or a config. */
export function isSubmittable(value: unknown): value is Submittable {
  return typeof (value as { submit?: unknown } | null)?.submit === 'function'
}

/** @internal The text that a named statement was parsed with on this connection, if any. */
export function parsedStatementText(connection: PgConnection, name: string): string | undefined {
  return connection.parsedStatements[name] ?? connection.submittedNamedStatements?.[name]
}

/** @internal The text a query object will run: its own, or that of the named statement it reuses. */
export function statementText(client: AnyClient, statement: Submittable): string | undefined {
  if (typeof statement.text === 'string') return statement.text
  const connection = typeof statement.name === 'string' ? connectionOf(client) : undefined
  return connection && parsedStatementText(connection, statement.name!)
}

/** @internal pg records a named statement as on the wire when it sends its Parse; undo that. */
export function forgetSubmittedStatement(connection: PgConnection, name: string | undefined): void {
  if (name && connection.submittedNamedStatements) delete connection.submittedNamedStatements[name]
}

/** @internal A simple-protocol query cannot share a pipeline: switch pg's Query to Parse/Bind/Execute. */
export function useExtendedProtocol(statement: Submittable): void {
  if ('queryMode' in statement) statement.queryMode = 'extended'
}

/**
 * @internal Writes Parse (unless `parse` is false: a named statement the
 * connection holds), Bind and Execute of a statement whose values are all
 * bind parameters. No Describe: its rows are not read.
 */
export function writeStatement(
  connection: PgConnection,
  statement: { text: string; values: readonly unknown[]; name?: string | undefined; parse: boolean },
): void {
  const { text, values, name } = statement
  if (name === undefined) {
    connection.parse({ text })
    connection.bind({ values })
  } else {
    if (statement.parse) connection.parse({ text, name })
    connection.bind({ statement: name, values })
  }
  connection.execute({})
}

/**
 * @internal Writes messages already serialised (see setter-messages.ts), as
 * pg's Connection writes each of its own (Connection#_send, pg 8.12 to 8.23:
 * nothing once the socket is no longer writable).
 */
export function writeMessages(connection: PgConnection, messages: Buffer): void {
  const stream = connection.stream as unknown as { writable?: boolean; write(chunk: Buffer): boolean }
  if (!stream.writable) return
  stream.write(messages)
}

/**
 * @internal Writes Close for the named statement `name`: PostgreSQL drops it
 * (no error if it is not there) and answers CloseComplete, which pg's
 * Client ignores. Connection#close, pg 8.12 to 8.23.
 */
export function writeClose(connection: PgConnection, name: string): void {
  connection.close({ type: 'S', name })
}

/** @internal Runs `write` with the socket corked: the messages leave in one packet. */
export function corked<T>(connection: PgConnection, write: () => T): T {
  connection.stream.cork?.()
  try {
    return write()
  } finally {
    connection.stream.uncork?.()
  }
}

const BEFORE_SYNC = Symbol('tenantscope.beforeSync')
type SyncHooked = PgConnection & { [BEFORE_SYNC]?: (() => void) | undefined }

/**
 * @internal Runs `write` once, right before the next Sync that pg writes on
 * this connection (Connection#sync, pg 8.12 to 8.23): the connection keeps
 * its identity (per-connection maps stay keyed by it), and nothing is
 * allocated per property read as with beforeSync's Proxy. The hook slot is
 * installed once per connection; `write` is cleared before it runs.
 */
export function writeBeforeNextSync(connection: PgConnection, write: () => void): void {
  const hooked = connection as SyncHooked
  if (!(BEFORE_SYNC in hooked)) {
    const sync = hooked.sync
    hooked[BEFORE_SYNC] = undefined
    hooked.sync = function (this: SyncHooked) {
      const hook = this[BEFORE_SYNC]
      if (hook !== undefined) {
        this[BEFORE_SYNC] = undefined
        hook()
      }
      sync.call(this)
    }
  }
  hooked[BEFORE_SYNC] = write
}

/** @internal Drops a hook of writeBeforeNextSync that no Sync came for (the statement was refused). */
export function clearBeforeNextSync(connection: PgConnection): void {
  const hooked = connection as SyncHooked
  if (BEFORE_SYNC in hooked) hooked[BEFORE_SYNC] = undefined
}

const fixedMessages = new WeakMap<object, Map<string, Buffer>>()

/**
 * @internal Writes Parse/Bind/Execute of a constant statement without
 * parameters (BEGIN, COMMIT), unnamed: the bytes are serialised once per pg
 * Connection class, by that pg's own writers, and written as they are
 * afterwards (Connection#_send, pg 8.12 to 8.23). Where pg lacks `_send`,
 * the messages are written one by one as before.
 */
export function writeFixedStatement(connection: PgConnection, text: string): void {
  const send = (connection as { _send?: (buffer: Buffer) => unknown })._send
  const kind = Object.getPrototypeOf(connection) as object
  let byText = fixedMessages.get(kind)
  let bytes = byText?.get(text)
  if (bytes === undefined && typeof send === 'function') {
    const parts: Buffer[] = []
    const capture = Object.create(kind, { _send: { value: (buffer: Buffer) => parts.push(Buffer.from(buffer)) } }) as PgConnection
    capture.parse({ text })
    capture.bind({ values: [] })
    capture.execute({})
    bytes = Buffer.concat(parts)
    if (byText === undefined) fixedMessages.set(kind, (byText = new Map()))
    byText.set(text, bytes)
  }
  if (bytes === undefined || typeof send !== 'function') {
    connection.parse({ text })
    connection.bind({ values: [] })
    connection.execute({})
    return
  }
  send.call(connection, bytes)
}

/** @internal The connection as seen by a query object that must write more messages right before its Sync. */
export function beforeSync(connection: PgConnection, write: (connection: PgConnection) => void): PgConnection {
  return new Proxy(connection, {
    get: (target, property) => {
      if (property === 'sync') {
        return () => {
          write(target)
          target.sync()
        }
      }
      const value: unknown = Reflect.get(target, property)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/**
 * @internal pg's conversion of a parameter to what its Bind writes (a string,
 * a Buffer or null, which it then passes on unchanged). `pg.utils` exists
 * since pg 8.16; undefined before.
 */
export const prepareValue: ((value: unknown) => unknown) | undefined = (
  pg as unknown as { utils?: { prepareValue?: (value: unknown) => unknown } }
).utils?.prepareValue
