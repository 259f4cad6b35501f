import { Worker } from 'node:worker_threads'
import { throughLocalPort } from '@tenantscope/test-harness'

export interface LatencyProxy {
  readonly port: number
  /** `url` with its host and port pointed at this proxy. */
  url(url: string): string
  close(): Promise<void>
}

// The proxy runs in its own thread: on a CPU-bound machine the benchmark's
// own event loop would otherwise delay the proxy's timers, and modes with
// more round trips would pay for it more than once.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const net = require('node:net')
const { host, port, latencyMs } = workerData
const sockets = new Set()
// Every chunk waits latencyMs before it is written on, each way. Timers of the
// same duration fire in order, so the byte stream keeps its order.
const pipe = (from, to) => from.on('data', (chunk) => setTimeout(() => to.destroyed || to.write(chunk), latencyMs))
const server = net.createServer((client) => {
  client.setNoDelay(true)
  const upstream = net.connect(port, host)
  upstream.setNoDelay(true)
  sockets.add(client).add(upstream)
  pipe(client, upstream)
  pipe(upstream, client)
  const close = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream) }
  client.on('close', close).on('error', close)
  upstream.on('close', close).on('error', close)
})
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }))
parentPort.on('message', () => { for (const s of sockets) s.destroy(); server.close(() => process.exit(0)) })
`

/**
 * A TCP proxy that adds `latencyMs` each way, like a network between an app
 * and its database in the same region.
 */
export async function startLatencyProxy(target: { host: string; port: number }, latencyMs: number): Promise<LatencyProxy> {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ...target, latencyMs } })
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (message: { port: number }) => resolve(message.port))
    worker.once('error', reject)
  })
  return {
    port,
    url: (url) => throughLocalPort(url, port),
    close() {
      return new Promise((resolve) => {
        worker.once('exit', () => resolve())
        worker.postMessage('close')
      })
    },
  }
}
