import { type Duplex, Readable } from 'node:stream'
import type pg from 'pg'
import { CopyOutParser } from './copy-out-parser.js'

type DataListener = (chunk: Buffer) => void

/**
 * @internal `COPY ... TO STDOUT` as a readable stream of COPY's text, for
 * `client.query(copyOut(sql))`: the same integration with pg as
 * pg-copy-streams' `to` (a Submittable that takes the connection's socket
 * for the COPY phase and hands it back to pg for what follows), but the
 * messages are parsed in bulk (CopyOutParser): it pushes one buffer per
 * socket read instead of one per row, which was most of the CPU an export
 * spent in Node.
 *
 * The stream ends with COPY's CommandComplete, so `rowCount` is known when it
 * ends. An ErrorResponse (also a backend terminated mid-COPY) or a lost
 * connection destroys it with pg's error. Destroyed by its consumer before
 * the end, it goes on reading the COPY to its end and drops it, so that the
 * connection is usable again (a ROLLBACK after it does not wait forever).
 */
export class CopyOutStream extends Readable {
  readonly text: string
  /** Rows COPY reported, once the stream ended. */
  rowCount = 0
  readonly #parser = new CopyOutParser()
  #socket: Duplex | undefined
  #pgListener: DataListener | undefined
  #wanted = false
  // Destroyed in the COPY phase: the rest is read and dropped.
  #draining = false
  #forwarding = false
  #completed = false
  readonly #onReadable = () => this.#forward()

  constructor(text: string, highWaterMark?: number) {
    super(highWaterMark === undefined ? {} : { highWaterMark })
    this.text = text
  }

  /** Called by pg when the query's turn comes: the connection is idle and its parser holds no bytes. */
  submit(connection: pg.Connection): Error | undefined {
    const socket = connection.stream
    const listeners = socket.listeners('data') as DataListener[]
    if (listeners.length !== 1) return new Error(`Expected pg's one listener on the connection, found ${listeners.length}`)
    this.#pgListener = listeners[0]!
    socket.removeListener('data', this.#pgListener)
    socket.pause()
    this.#socket = socket
    socket.on('readable', this.#onReadable)
    connection.query(this.text)
    return undefined
  }

  override _read(): void {
    this.#wanted = true
    this.#forward()
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    // Still in the COPY phase: read it to its end (dropped), so that pg gets the connection back.
    this.#draining = true
    this.#forward()
    done(error)
  }

  #forward(): void {
    const socket = this.#socket
    if (this.#forwarding || !socket) return
    this.#forwarding = true
    try {
      let chunk: Buffer | null
      while ((this.#wanted || this.#draining) && this.#socket && (chunk = socket.read() as Buffer | null) !== null) {
        const { data, rest } = this.#parser.parse(chunk)
        if (data && !this.#draining) this.#wanted = this.push(data)
        if (rest) this.#handBack(rest)
      }
    } catch (error) {
      // A stream that is not the PostgreSQL protocol: the connection cannot be trusted any more.
      this.#socket = undefined
      socket.removeListener('readable', this.#onReadable)
      socket.destroy(error as Error)
      this.destroy(error as Error)
    } finally {
      this.#forwarding = false
    }
  }

  // The COPY phase is over: pg parses the rest (CommandComplete, an error, ReadyForQuery) and what follows.
  #handBack(rest: Buffer): void {
    const socket = this.#socket!
    const listener = this.#pgListener!
    this.#socket = undefined
    this.#pgListener = undefined
    socket.removeListener('readable', this.#onReadable)
    socket.on('data', listener)
    listener(rest)
    // After pg's listener ran (it may pause the socket itself): the socket flows again, as pg expects.
    process.nextTick(() => socket.resume())
  }

  /** pg: an ErrorResponse, or the connection lost. */
  handleError(error: Error): void {
    this.destroy(error)
  }

  /** pg: COPY's CommandComplete (`COPY <rows>`). */
  handleCommandComplete(message: { text?: string }): void {
    const match = /^COPY (\d+)/.exec(message?.text ?? '')
    if (match) this.rowCount = Number(match[1])
    this.#completed = true
    if (!this.destroyed) this.push(null)
  }

  /** pg: the connection is idle again. A COPY that did not complete by now did not run as one. */
  handleReadyForQuery(): void {
    if (!this.#completed && !this.destroyed) this.destroy(new Error(`The statement did not run as COPY ... TO STDOUT`))
  }
}

/** @internal `client.query(copyOut('COPY (...) TO STDOUT'))`: see CopyOutStream. */
export function copyOut(text: string, highWaterMark?: number): CopyOutStream {
  return new CopyOutStream(text, highWaterMark)
}
