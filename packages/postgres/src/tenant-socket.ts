import net from 'node:net'
import { TenantScopeError } from '@tenantscope/core'
import type postgres from 'postgres'
import { decodeToken } from './tenant-token.js'
import { SpliceError, WireSplice } from './wire-splice.js'

const brand = Symbol.for('tenantscope:postgres:tenantSocket')

/** The part of postgres.js's parsed options the socket factory reads. */
interface ConnectOptions {
  host: string[]
  port: number[]
  path?: string | false
  ssl?: unknown
  prepare?: boolean
}

type SocketFactory = ((options: ConnectOptions) => net.Socket) & { [brand]?: true }

/**
 * postgres.js options, `options` and a socket that lets `createTenantSql`
 * send each statement's tenant setter before the statement's own Sync: one
 * command per statement, as raw postgres.js sends.
 *
 * postgres.js closes every query with a Sync and has no hook between its
 * messages, so the socket does it: it rewrites the protocol on the wire (see
 * wire-splice.ts). Each connection is a plain TCP (or Unix socket)
 * connection to the first host; TLS (`ssl`) is refused (postgres.js would
 * encrypt beneath the rewriting).
 * @example
 * const sql = createTenantSql(postgres(process.env.DATABASE_URL!, tenantSocket({ max: 10 })))
 */
export function tenantSocket<T extends Record<string, postgres.PostgresType> = {}>(options: postgres.Options<T> = {}): postgres.Options<T> {
  if (options.ssl !== undefined && options.ssl !== false) throw refuseTls()
  const factory: SocketFactory = (parsed) => {
    if (parsed.ssl !== undefined && parsed.ssl !== false) throw refuseTls()
    const socket = parsed.path ? net.connect(parsed.path) : net.connect(parsed.port[0]!, parsed.host[0]!)
    splice(socket, new WireSplice({ keepStatement: parsed.prepare !== false, decode: decodeToken }))
    return socket
  }
  factory[brand] = true
  return { ...options, socket: factory } as postgres.Options<T>
}

const refuseTls = () =>
  new TenantScopeError(
    'INVALID_CONFIG',
    'tenantSocket() does not support ssl: connect without TLS, or use createTenantSql without tenantSocket()',
  )

/** @internal True when postgres.js uses tenantSocket()'s connections; throws INVALID_CONFIG when it would also use TLS. */
export function usesTenantSocket(options: Record<string, unknown>): boolean {
  const socket = options.socket as SocketFactory | undefined
  if (typeof socket !== 'function' || socket[brand] !== true) return false
  if (options.ssl !== undefined && options.ssl !== false) throw refuseTls()
  return true
}

// The socket postgres.js gets is the TCP socket itself, its write and its
// 'data' events passed through the splice: no stream in between.
function splice(socket: net.Socket, wire: WireSplice): void {
  const write = socket.write.bind(socket) as (chunk: Buffer, ...rest: unknown[]) => boolean
  const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean
  // The wire no longer fits what was sent: nothing more on this connection
  // can be trusted to belong where postgres.js would put it. The socket is
  // destroyed first, so nothing more is read or sent (what postgres.js
  // writes from here on reaches no server). Then postgres.js reads the
  // replies before the one that did not fit (`checked`): a statement whose
  // reply came whole resolves, so a retry does not repeat a committed write.
  // Then it hears the error, and fails what it has in flight with it; the
  // socket closes without one, so that what was sent in between (postgres.js
  // sends a query from a rejection handler at once: ours, to absorb a stale
  // error, or the caller's retry) fails too, as on any closed connection.
  // Closed with the error instead, postgres.js (3.4) would leave those
  // waiting: with `max: 1`, forever. A write that fails (postgres.js never
  // sends a message the socket cannot follow) is handled the same, at once:
  // postgres.js's error handler only rejects, it writes nothing then.
  const fail = (error: unknown, checked: Buffer | null) => {
    // Failed before, or closed by postgres.js, which then no longer listens
    // (an 'error' without a listener would be thrown).
    if (socket.destroyed) return
    socket.destroy()
    if (checked !== null) emit('data', checked)
    emit('error', error instanceof SpliceError ? error : new SpliceError(String(error)))
  }
  socket.write = ((chunk: Buffer, ...rest: unknown[]) => {
    let bytes: Buffer
    try {
      bytes = wire.outgoing(chunk)
    } catch (error) {
      fail(error, null)
      const callback = rest.find((arg) => typeof arg === 'function') as ((error: Error) => void) | undefined
      if (callback !== undefined) process.nextTick(callback, error)
      return false
    }
    return write(bytes, ...rest)
  }) as typeof socket.write
  socket.emit = ((event: string | symbol, ...args: unknown[]) => {
    if (event !== 'data') return emit(event, ...args)
    let bytes: Buffer | null
    try {
      bytes = wire.incoming(args[0] as Buffer)
    } catch (error) {
      fail(error, wire.checked())
      return false
    }
    const result = bytes === null ? true : emit('data', bytes)
    const released = wire.released()
    if (released !== null && !socket.destroyed) write(released)
    return result
  }) as typeof socket.emit
}
