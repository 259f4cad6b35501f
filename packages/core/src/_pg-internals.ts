/**
 * @internal The slice of node-postgres internals that a custom query object
 * ("submittable", the interface pg-cursor uses) talks to. Stable across pg 8.
 */
export interface PgConnection {
  parse(config: { text: string; name?: string; types?: unknown[] }): void
  bind(config: { values: readonly unknown[]; portal?: string; statement?: string }): void
  execute(config: { portal?: string; rows?: number }): void
  sync(): void
  flush(): void
  stream: { cork?: () => void; uncork?: () => void }
  parsedStatements: Record<string, string>
  /** pg ≥ 8.20: named statements whose Parse is on the wire. */
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
  const target = connection as unknown as Record<'sync' | 'query', (...args: unknown[]) => unknown>
  for (const name of ['sync', 'query'] as const) {
    const write = target[name]
    if (typeof write !== 'function') continue
    target[name] = function (this: unknown, ...args: unknown[]) {
      onSync()
      return write.apply(this, args)
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
