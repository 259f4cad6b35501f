// Backend messages of the COPY OUT phase (https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-COPY).
const COPY_DATA = 0x64 // 'd'
const COPY_OUT_RESPONSE = 0x48 // 'H'
// Asynchronous messages the backend may send at any time, also in the middle of a COPY.
const NOTICE_RESPONSE = 0x4e // 'N'
const PARAMETER_STATUS = 0x53 // 'S'
const NOTIFICATION_RESPONSE = 0x41 // 'A'

const HEADER = 5 // a type byte, then the length (itself included) as a 32-bit integer

/** What one chunk of the connection's bytes held. */
export interface CopyOutChunk {
  /** COPY's data in it, the messages' headers stripped: a view of the chunk, or undefined if none. */
  data: Buffer | undefined
  /**
   * The bytes from the first message that ends the COPY phase (CopyDone, an
   * ErrorResponse, ...) onwards, untouched: they are the driver's to parse.
   * Undefined while the COPY goes on.
   */
  rest: Buffer | undefined
}

/**
 * @internal Takes the connection's bytes during `COPY ... TO STDOUT` and
 * returns the data of its CopyData messages, in bulk: each chunk is
 * compacted in place (the 5-byte header of each message removed) and one
 * view of it is returned, where pg-copy-streams handles every message (one
 * per row) as a buffer of its own. Messages may be split anywhere across
 * chunks. Notices, parameter changes and notifications that arrive in the
 * middle of the COPY are skipped (as pg-copy-streams does); the first other
 * message ends the COPY phase and is returned with everything after it.
 *
 * It writes into the chunks it is given: they must be its own (fresh reads
 * of the socket), and only the returned views of them remain meaningful.
 */
export class CopyOutParser {
  // A header that a chunk boundary split: its first bytes, until the next chunk completes it.
  readonly #header = Buffer.alloc(HEADER)
  #headerLength = 0
  // The current message's bytes still to come in later chunks, and whether they are COPY data.
  #remaining = 0
  #inData = false
  #ended = false

  /** True once a chunk's `rest` was returned: the COPY phase is over. */
  get ended(): boolean {
    return this.#ended
  }

  parse(chunk: Buffer): CopyOutChunk {
    if (this.#ended) throw new Error('The COPY phase is over')
    const length = chunk.length
    let read = 0
    let written = 0
    // The rest of a message begun in an earlier chunk: data is already in place, at the chunk's start.
    if (this.#remaining > 0) {
      const n = Math.min(this.#remaining, length)
      if (this.#inData) written = n
      read = n
      this.#remaining -= n
    }
    while (read < length) {
      let code: number
      let size: number
      if (this.#headerLength === 0 && read + HEADER <= length) {
        code = chunk[read]!
        if (!inCopyPhase(code)) return this.#end(chunk, written, read)
        size = ((chunk[read + 1]! << 24) | (chunk[read + 2]! << 16) | (chunk[read + 3]! << 8) | chunk[read + 4]!) - 4
        read += HEADER
      } else {
        // A header split by the chunk's end, or completed by this chunk.
        if (this.#headerLength === 0 && !inCopyPhase(chunk[read]!)) return this.#end(chunk, written, read)
        const n = Math.min(HEADER - this.#headerLength, length - read)
        chunk.copy(this.#header, this.#headerLength, read, read + n)
        this.#headerLength += n
        read += n
        if (this.#headerLength < HEADER) break
        this.#headerLength = 0
        code = this.#header[0]!
        size = this.#header.readUInt32BE(1) - 4
      }
      if (size < 0) throw new Error(`Invalid message length in the COPY's stream (type ${code})`)
      const n = Math.min(size, length - read)
      if (code === COPY_DATA) {
        // Moved down over the headers before it (never over bytes not yet read).
        if (written !== read) chunk.copyWithin(written, read, read + n)
        written += n
      }
      read += n
      if (n < size) {
        this.#remaining = size - n
        this.#inData = code === COPY_DATA
      }
    }
    return { data: written > 0 ? chunk.subarray(0, written) : undefined, rest: undefined }
  }

  #end(chunk: Buffer, written: number, read: number): CopyOutChunk {
    this.#ended = true
    return { data: written > 0 ? chunk.subarray(0, written) : undefined, rest: chunk.subarray(read) }
  }
}

function inCopyPhase(code: number): boolean {
  return (
    code === COPY_DATA ||
    code === COPY_OUT_RESPONSE ||
    code === NOTICE_RESPONSE ||
    code === PARAMETER_STATUS ||
    code === NOTIFICATION_RESPONSE
  )
}
