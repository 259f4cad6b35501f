import pg from 'pg'

/**
 * The floor: the least a client can do to run a statement for a tenant in
 * one round trip, written on pg without any of tenantscope's code.
 *
 *   Bind/Execute(named setter)  Parse/Bind/Describe/Execute(statement)  Sync
 *
 * The setter is parsed once per connection (as tenantscope's named setter
 * is); its replies are skipped; rows come out of pg's own Query as for raw pg.
 * The tenant is passed in: no AsyncLocalStorage, no checks, no wrapper.
 */
const SETTER = `SELECT set_config('app.current_tenant', $1, true)`
const SETTER_NAME = 'bench_floor_setter'
const parsed = new WeakSet<object>()

type Connection = {
  parse(message: { name: string; text: string; types: unknown[] }): void
  bind(message: { statement: string; values: unknown[] }): void
  execute(message: { portal: string }): void
}

// pg's Query, untyped: its typings declare submit as a property, not an overridable method.
const Query = pg.Query as unknown as new (
  text: string,
  values: unknown[],
  callback: unknown,
) => {
  submit(connection: Connection): Error | null
  handleDataRow(message: unknown): void
  handleCommandComplete(message: unknown, connection: unknown): void
}

class FloorQuery extends Query {
  #setterDone = false
  readonly #tenantId: string
  constructor(tenantId: string, text: string, values: unknown[], callback?: (error: Error | null, result?: pg.QueryResult) => void) {
    super(text, values, callback)
    this.#tenantId = tenantId
  }
  // Always the extended protocol, as the setter's messages need (pg sends a statement without values as a simple Query).
  requiresPreparation(): boolean {
    return true
  }
  override submit(connection: Connection): Error | null {
    if (!parsed.has(connection)) {
      connection.parse({ name: SETTER_NAME, text: SETTER, types: [] })
      parsed.add(connection)
    }
    connection.bind({ statement: SETTER_NAME, values: [this.#tenantId] })
    connection.execute({ portal: '' })
    return super.submit(connection)
  }
  override handleDataRow(message: unknown): void {
    if (this.#setterDone) super.handleDataRow(message)
  }
  override handleCommandComplete(message: unknown, connection: unknown): void {
    if (this.#setterDone) super.handleCommandComplete(message, connection)
    else this.#setterDone = true
  }
}

/**
 * `text` for `tenantId` behind the setter on a connection of `pool`: one
 * promise, plain callbacks for pg-pool and the query (no promise per step).
 */
export function floorPoolQuery(pool: pg.Pool, tenantId: string, text: string, values: unknown[]): Promise<void> {
  return new Promise((resolve, reject) => {
    pool.connect((connectError, client, release) => {
      if (connectError || !client) return reject(connectError)
      client.query(
        new FloorQuery(tenantId, text, values, (error) => {
          release(error ?? undefined)
          if (error) reject(error)
          else resolve()
        }) as never,
      )
    })
  })
}

/** Runs `text` for `tenantId` on `client` behind the setter, in one round trip. */
export function floorQuery(client: pg.ClientBase, tenantId: string, text: string, values: unknown[]): Promise<pg.QueryResult> {
  return new Promise((resolve, reject) => {
    client.query(new FloorQuery(tenantId, text, values, (error, result) => (error ? reject(error) : resolve(result!))) as never)
  })
}
