import { connect, createServer, type Socket } from 'node:net'
import { throughLocalPort } from './urls.js'

export interface WireCounter {
  readonly port: number
  /** `url` with its host and port pointed at this proxy. */
  url(url: string): string
  /** Frontend messages seen since the last reset, by type letter (P Parse, B Bind, E Execute, S Sync, Q Query, ...). */
  messages(): Record<string, number>
  /** How many times a client spoke after the server had answered: network round trips. */
  roundTrips(): number
  reset(): void
  close(): Promise<void>
}

export interface WireCounterOptions {
  /** Delay added to every chunk, each way (a slow network). @default 0 */
  latencyMs?: number
}

/**
 * A TCP proxy in front of PostgreSQL that parses what clients send. Counting
 * protocol messages and turns, not time, shows how many round trips a query
 * costs on any machine.
 */
export async function startWireCounter(target: { host: string; port: number }, options: WireCounterOptions = {}): Promise<WireCounter> {
  const latency = options.latencyMs ?? 0
  let counts: Record<string, number> = {}
  let turns = 0
  const sockets = new Set<Socket>()

  const server = createServer((client) => {
    const upstream = connect(target.port, target.host)
    sockets.add(client).add(upstream)
    let buffered = Buffer.alloc(0)
    let startedUp = false
    let serverSpokeLast = true

    const forward = (from: Socket, to: Socket) =>
      from.on('data', (chunk) => {
        if (latency > 0) setTimeout(() => to.write(chunk), latency)
        else to.write(chunk)
      })

    client.on('data', (chunk: Buffer) => {
      if (serverSpokeLast) {
        turns++
        serverSpokeLast = false
      }
      buffered = Buffer.concat([buffered, chunk])
      // Startup, SSLRequest and CancelRequest have no type byte.
      while (!startedUp && buffered.length >= 8) {
        const length = buffered.readInt32BE(0)
        const code = buffered.readInt32BE(4)
        if (buffered.length < length) return
        buffered = buffered.subarray(length)
        if (code !== 80877103) startedUp = true // anything but SSLRequest ends the startup phase
      }
      while (startedUp && buffered.length >= 5) {
        const length = buffered.readInt32BE(1)
        if (buffered.length < length + 1) break
        const type = String.fromCharCode(buffered[0]!)
        counts[type] = (counts[type] ?? 0) + 1
        buffered = buffered.subarray(length + 1)
      }
    })
    upstream.on('data', () => {
      serverSpokeLast = true
    })
    forward(client, upstream)
    forward(upstream, client)
    const close = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('close', close).on('error', close)
    upstream.on('close', close).on('error', close)
  })

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0

  return {
    port,
    url: (url) => throughLocalPort(url, port),
    messages: () => ({ ...counts }),
    roundTrips: () => turns,
    reset() {
      counts = {}
      turns = 0
    },
    close() {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
