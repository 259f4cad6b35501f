import { createHash } from 'node:crypto'
import pg from 'pg'
import { u16, u32 } from './wire-bytes.js'

/**
 * The floor: the least a client can do to run a statement for a tenant in
 * one round trip, written on pg without any of tenantscope's code. On the
 * wire it is exactly what tenantscope's default pool sends:
 *
 *   Bind/Execute(named setter)  Parse/Bind/Describe/Execute(statement)  Sync
 *
 * in one write (the socket corked: one packet, one wake-up of the backend),
 * with the same setter text and values (`set_config($1, $2, true)`, the
 * setting's name and the tenant). The setter is parsed once per connection,
 * as tenantscope's named setter is; its Bind and Execute are one buffer
 * serialised here by hand; its replies are skipped; rows come out of pg's own
 * Query as for raw pg. The tenant is passed in: no AsyncLocalStorage, no
 * checks, no wrapper, plain callbacks.
 *
 * (The floor before this one wrote the setter's Bind and Execute uncorked,
 * ahead of the statement's corked batch: three packets per operation where
 * tenantscope sends one, which cost the backend more CPU than tenantscope.
 * Later ones handed pg its statement as a config object, which pg copies
 * property by property (tenantscope passes the text, which pg does not
 * copy), and ran on tenantscope's own connections, whose per-connection
 * hooks it then paid: both made the floor dearer than it is.)
 */
const SETTER = 'SELECT set_config($1, $2, true)'
// As long as tenantscope's content-addressed name (tenantscope_ and 32 hex
// digits), so that the setter's Bind is as long on the wire.
export const SETTER_NAME = `bench_floor_${createHash('sha256').update(SETTER).digest('hex').slice(0, 32)}`
const SETTING = 'app.current_tenant'
const parsed = new WeakSet<object>()

type Connection = {
  parse(message: { name: string; text: string; types: unknown[] }): void
  stream: { write(buffer: Buffer): boolean; cork(): void; uncork(): void }
}

// Bind(portal '', statement SETTER_NAME, 2 text parameters, text results) and
// Execute(portal '', all rows), as pg's serializer writes them.
// (Two parameter format codes, both text; one result format code, text.)
const BIND_HEAD = Buffer.concat([
  Buffer.from(`\0${SETTER_NAME}\0`),
  u16(2),
  u16(0),
  u16(0),
  u16(2),
  u32(Buffer.byteLength(SETTING)),
  Buffer.from(SETTING),
])
const BIND_TAIL = Buffer.concat([u16(1), u16(0)])
const EXECUTE = Buffer.from([0x45, 0, 0, 0, 9, 0, 0, 0, 0, 0])

/** The setter's Bind and Execute for `tenantId` (exported for the byte-for-byte test against pg's serializer). */
export function setterMessages(tenantId: string): Buffer {
  const tenantLength = Buffer.byteLength(tenantId)
  const bindLength = 4 + BIND_HEAD.length + 4 + tenantLength + BIND_TAIL.length
  const buffer = Buffer.allocUnsafe(1 + bindLength + EXECUTE.length)
  buffer[0] = 0x42 // 'B'
  buffer.writeUInt32BE(bindLength, 1)
  let at = 5 + BIND_HEAD.copy(buffer, 5)
  at = buffer.writeUInt32BE(tenantLength, at)
  at += buffer.write(tenantId, at)
  at += BIND_TAIL.copy(buffer, at)
  EXECUTE.copy(buffer, at)
  return buffer
}

// pg's Query, untyped: its typings declare submit as a property, not an overridable method.
const Query = pg.Query as unknown as new (
  text: string,
  values: unknown[],
) => {
  callback: unknown
  queryMode: string | undefined
  submit(connection: Connection): Error | null
  handleDataRow(message: unknown): void
  handleCommandComplete(message: unknown, connection: unknown): void
}

class FloorQuery extends Query {
  #setterDone = false
  readonly #tenantId: string
  constructor(tenantId: string, text: string, values: unknown[], callback: (error: Error | null, result?: pg.QueryResult) => void) {
    // The text, not a config object: pg copies a config object's properties
    // one by one, and tenantscope passes the text too.
    super(text, values)
    // Always the extended protocol, as the setter's messages need (pg sends a statement without values as a simple Query).
    this.queryMode = 'extended'
    this.callback = callback
    this.#tenantId = tenantId
  }
  override submit(connection: Connection): Error | null {
    const { stream } = connection
    stream.cork()
    try {
      if (!parsed.has(connection)) {
        connection.parse({ name: SETTER_NAME, text: SETTER, types: [] })
        parsed.add(connection)
      }
      stream.write(setterMessages(this.#tenantId))
      return super.submit(connection)
    } finally {
      stream.uncork()
    }
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
 * promise, plain callbacks for pg-pool and the query. (Closures passed as
 * arguments, not arrow-function fields: tsx, which runs the bench, names
 * every field's function with Object.defineProperty on each construction,
 * a cost that tenantscope, run from its build, does not pay.)
 */
export function floorPoolQuery(pool: pg.Pool, tenantId: string, text: string, values: unknown[]): Promise<void> {
  return new Promise((resolve, reject) => {
    pool.connect((error, client, release) => {
      if (error || !client) {
        reject(error)
        return
      }
      const query = new FloorQuery(tenantId, text, values, (queryError) => {
        release(queryError ?? undefined)
        if (queryError) reject(queryError)
        else resolve()
      })
      client.query(query as never)
    })
  })
}

/** Runs `text` for `tenantId` on `client` behind the setter, in one round trip. */
export function floorQuery(client: pg.ClientBase, tenantId: string, text: string, values: unknown[]): Promise<pg.QueryResult> {
  return new Promise((resolve, reject) => {
    client.query(new FloorQuery(tenantId, text, values, (error, result) => (error ? reject(error) : resolve(result!))) as never)
  })
}
