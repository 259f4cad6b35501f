import { createWriteStream } from 'node:fs'
import { Writable } from 'node:stream'
import { Worker } from 'node:worker_threads'
import { EXPORT_BUFFER, ExportHash } from './archive.js'

/**
 * @internal Where an export's COPY text goes: a data file, hashed (SHA-256)
 * and sized as it is written. `streams` end the COPY's pipeline.
 */
export interface ArchiveFileSink {
  readonly streams: Writable[]
  /** Rows so far (only counted when asked: for a progress display). */
  rows(): number
  /** After the pipeline finished: the file's SHA-256 (hex) and size. */
  result(): { sha256: string; bytes: number }
}

/**
 * @internal A sink for one data file. Node's main thread reads the COPY from
 * the socket, and the backend keeps another core busy producing it: so the
 * hashing and the writing go to a worker thread (shared by every export of
 * the process, started by `warmArchiveWriter`), in slices of EXPORT_BUFFER,
 * which computes the same SHA-256 of the same bytes.
 * While that worker is not up yet (the first export of a process), or
 * cannot start, the file is hashed and written here instead.
 */
export function archiveFileSink(path: string, countRows: boolean): ArchiveFileSink {
  const writer = shared?.ready ? shared : undefined
  if (writer) return new WorkerFileSink(writer, path, countRows)
  const hash = new ExportHash(countRows)
  return {
    streams: [hash, createWriteStream(path, { highWaterMark: EXPORT_BUFFER })],
    rows: () => hash.rows,
    result: () => ({ sha256: hash.digest(), bytes: hash.bytes }),
  }
}

/** @internal Starts the shared worker if it isn't running: an export calls it first, so that it is up by the first large table. */
export function warmArchiveWriter(): void {
  if (shared) return
  let worker: Worker
  try {
    worker = new Worker(WORKER_SOURCE, { eval: true })
  } catch {
    return // no worker threads here: exports hash on the main thread
  }
  const writer: SharedWriter = { worker, ready: false, sinks: new Map(), nextId: 1 }
  shared = writer
  worker.on('online', () => (writer.ready = true))
  worker.on('message', (message: WorkerReply) => {
    writer.sinks.get(message.id)?.receive(message)
    // Idle, the worker must not keep the process alive; busy, it must (the export waits on its answers).
    if (writer.sinks.size === 0) worker.unref()
  })
  const fail = (error: Error) => {
    if (shared === writer) shared = undefined
    for (const sink of writer.sinks.values()) sink.destroy(error)
    writer.sinks.clear()
  }
  worker.on('error', fail)
  worker.on('exit', () => fail(new Error('The archive writer thread stopped')))
  // After the listeners: adding a 'message' listener refs the worker again.
  worker.unref()
}

interface SharedWriter {
  worker: Worker
  ready: boolean
  sinks: Map<number, WorkerFileSink>
  nextId: number
}

let shared: SharedWriter | undefined

type WorkerReply =
  | { type: 'ack'; id: number; length: number; rows: number }
  | { type: 'closed'; id: number; sha256: string; bytes: number; rows: number }
  | { type: 'error'; id: number; message: string; code?: string }

// Bytes posted to the worker and not yet written: beyond this, the COPY waits (backpressure).
const IN_FLIGHT_LIMIT = 8 * EXPORT_BUFFER

class WorkerFileSink extends Writable implements ArchiveFileSink {
  readonly streams: Writable[] = [this]
  readonly #writer: SharedWriter
  readonly #id: number
  #inFlight = 0
  // COPY's text waiting to be posted: a buffer of its own, as a chunk may be a view of a larger socket buffer.
  #stage: Uint8Array<ArrayBuffer> | undefined
  #staged = 0
  #rows = 0
  #waiting: ((error?: Error | null) => void) | undefined
  #closing: ((error?: Error | null) => void) | undefined
  #result: { sha256: string; bytes: number } | undefined

  constructor(writer: SharedWriter, path: string, countRows: boolean) {
    super({ highWaterMark: EXPORT_BUFFER })
    this.#writer = writer
    this.#id = writer.nextId++
    writer.sinks.set(this.#id, this)
    writer.worker.ref()
    writer.worker.postMessage({ type: 'open', id: this.#id, path, countRows })
  }

  rows(): number {
    return this.#rows
  }

  result(): { sha256: string; bytes: number } {
    if (!this.#result) throw new Error('The data file is not finished')
    return this.#result
  }

  receive(reply: WorkerReply): void {
    if (reply.type === 'error') {
      const error = Object.assign(new Error(reply.message), reply.code ? { code: reply.code } : {})
      this.#writer.sinks.delete(this.#id)
      this.destroy(error)
      return
    }
    this.#rows = reply.rows
    if (reply.type === 'closed') {
      this.#writer.sinks.delete(this.#id)
      this.#result = { sha256: reply.sha256, bytes: reply.bytes }
      this.#closing?.()
      return
    }
    this.#inFlight -= reply.length
    const waiting = this.#waiting
    if (waiting && this.#inFlight < IN_FLIGHT_LIMIT) {
      this.#waiting = undefined
      waiting()
    }
  }

  override _writev(chunks: { chunk: Buffer }[], done: (error?: Error | null) => void): void {
    // Staged, and the stage transferred (not cloned) when full: one message to the worker per
    // EXPORT_BUFFER bytes rather than one per socket read, each of which cost more than the bytes it carried.
    for (const { chunk } of chunks) {
      for (let at = 0; at < chunk.length; ) {
        this.#stage ??= new Uint8Array(EXPORT_BUFFER)
        const n = Math.min(chunk.length - at, this.#stage.length - this.#staged)
        this.#stage.set(chunk.subarray(at, at + n), this.#staged)
        this.#staged += n
        at += n
        if (this.#staged === this.#stage.length) this.#post()
      }
    }
    if (this.#inFlight < IN_FLIGHT_LIMIT) done()
    else this.#waiting = done
  }

  override _final(done: (error?: Error | null) => void): void {
    if (this.#staged > 0) this.#post()
    this.#closing = done
    this.#writer.worker.postMessage({ type: 'close', id: this.#id })
  }

  #post(): void {
    const stage = this.#stage!
    const chunk = this.#staged === stage.length ? stage : stage.slice(0, this.#staged)
    this.#writer.worker.postMessage({ type: 'data', id: this.#id, chunk }, [chunk.buffer])
    this.#inFlight += chunk.length
    this.#stage = undefined
    this.#staged = 0
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    if (this.#writer.sinks.delete(this.#id)) this.#writer.worker.postMessage({ type: 'abort', id: this.#id })
    if (this.#writer.sinks.size === 0) this.#writer.worker.unref()
    done(error)
  }
}

// Plain JavaScript, evaluated: no file to resolve, from the sources or from a bundle.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const { openSync, writeSync, closeSync } = require('node:fs')
const files = new Map()
parentPort.on('message', (m) => {
  const file = files.get(m.id)
  try {
    if (m.type === 'open') {
      files.set(m.id, { fd: openSync(m.path, 'w'), hash: createHash('sha256'), bytes: 0, rows: 0, countRows: m.countRows })
    } else if (file && m.type === 'data') {
      const chunk = Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength)
      file.hash.update(chunk)
      for (let at = 0; at < chunk.length; ) at += writeSync(file.fd, chunk, at)
      file.bytes += chunk.length
      if (file.countRows) for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) file.rows++
      parentPort.postMessage({ type: 'ack', id: m.id, length: chunk.length, rows: file.rows })
    } else if (file && m.type === 'close') {
      files.delete(m.id)
      closeSync(file.fd)
      parentPort.postMessage({ type: 'closed', id: m.id, sha256: file.hash.digest('hex'), bytes: file.bytes, rows: file.rows })
    } else if (file && m.type === 'abort') {
      files.delete(m.id)
      closeSync(file.fd)
    }
  } catch (error) {
    if (file) {
      files.delete(m.id)
      try { closeSync(file.fd) } catch {}
    }
    parentPort.postMessage({ type: 'error', id: m.id, message: String((error && error.message) || error), code: error && error.code })
  }
})
`
