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
