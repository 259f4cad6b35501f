/**
 * @internal The protocol rewriting behind `tenantSocket()`: one connection's
 * PostgreSQL wire protocol (v3), in both directions.
 *
 * Outgoing, a Bind whose portal name carries a tenant token (see
 * tenant-token.ts) is rewritten: the setter's Bind and Execute (after a
 * Close of any statement left by the same name and its Parse: until the
 * server has confirmed the Parse once per connection or, with `prepare:
 * false`, every time) go out right before it, and its portal name becomes
 * the unnamed portal again. The setter and the statement then sit before the
 * same Sync: PostgreSQL runs them as one implicit transaction, the
 * transaction-local setting reaches the statement and ends with it.
 *
 * Incoming, the replies to the injected messages (ParseComplete,
 * BindComplete, the setter's DataRow and CommandComplete, CloseComplete) are
 * dropped before postgres.js parses the stream, so it sees what raw
 * postgres.js would. An ErrorResponse is never dropped: a failing setter
 * reaches postgres.js as the statement's error, and PostgreSQL skips the
 * statement (it discards everything up to the Sync).
 *
 * To know which replies are the setter's, every message sent is recorded
 * with the replies it will get, in order (PostgreSQL answers in order).
 * ReadyForQuery is never dropped or made up, so postgres.js's own matching
 * of results to queries is untouched: a statement's rows can only ever come
 * from its own Sync, whose transaction carries its own tenant. Anything that
 * does not fit the record throws: the caller ends the connection.
 */

/** What a message sent to the server is answered with. */
enum Sent {
  Parse,
  Bind,
  Describe,
  Execute,
  Close,
  Sync,
  Query,
}

interface Expected {
  readonly kind: Sent
  /** An injected message: its replies (but an error) are dropped. */
  readonly injected: boolean
  /** For an injected Parse or Bind: the setter's text, to record or forget its statement. */
  readonly setter?: string
}

// What postgres.js sent, one shared record per kind (no allocation per message).
const PASSED: readonly Expected[] = [Sent.Parse, Sent.Bind, Sent.Describe, Sent.Execute, Sent.Close, Sent.Sync, Sent.Query].map((kind) => ({
  kind,
  injected: false,
}))

/** A portal name that starts with these bytes carries a tenant token. */
export const TOKEN_PREFIX = '\u001ftenantscope\u001f'
const PREFIX = Buffer.from(TOKEN_PREFIX, 'utf8')

/**
 * The wire did not fit what was sent: the connection is destroyed. Its code
 * is postgres.js's own for that, so code that handles a lost connection
 * (retrying, or this package's recovery) handles this one the same way.
 */
export class SpliceError extends Error {
  override name = 'SpliceError'
  readonly code = 'CONNECTION_DESTROYED'
}

/** The setter to run for one statement: its text and its text values (bind parameters). */
export interface SpliceSetter {
  /** Names the setter's statement on the server: the same number for the same text. */
  readonly id: number
  readonly text: string
  readonly values: readonly string[]
}

export interface WireSpliceOptions {
  /**
   * Parse the setter once per connection and keep it (postgres.js's
   * `prepare: true`), or parse and close it with every statement (for a
   * pooler that does not follow named statements, `prepare: false`).
   */
  keepStatement: boolean
  /** Reads a token (the portal name after the prefix); undefined when it is not one. */
  decode: (token: string) => SpliceSetter | undefined
}

export class WireSplice {
  #ready = false
  // Sent and not yet answered, oldest first (#head indexes the oldest).
  #expected: Expected[] = []
  #head = 0
  // After an error, PostgreSQL discards what is sent up to the next Sync.
  #discarding = false
  // The setter texts whose statement this connection has (keepStatement):
  // recorded at the setter's ParseComplete, never when its Parse is sent (an
  // error before it makes PostgreSQL skip it).
  readonly #prepared = new Set<string>()
  // Incoming framing: bytes of the current message still to pass or drop.
  #remaining = 0
  #dropping = false
  #inCarry: Buffer | null = null
  #outCarry: Buffer | null = null
  // Sync/Query sent and not yet answered by a ReadyForQuery.
  #syncsInFlight = 0
  // Bytes held back (see #holdFrom) and how many ReadyForQuery they wait for.
  #held: Buffer[] | null = null
  #holdFor = 0
  // See checked().
  #checked: Buffer | null = null

  constructor(private readonly options: WireSpliceOptions) {}

  /** The bytes to send for what postgres.js wrote. */
  outgoing(chunk: Buffer): Buffer {
    // Startup, authentication, a cancel request: no message type to read.
    if (!this.#ready) return chunk
    let data = chunk
    if (this.#outCarry !== null) {
      data = Buffer.concat([this.#outCarry, chunk])
      this.#outCarry = null
    }
    let pieces: Buffer[] | null = null
    let kept = 0
    let at = 0
    // Where this chunk's last Sync (or Query) ends, and whether to hold back from there.
    let afterSync = 0
    let holdFrom = -1
    let syncsHeld = 0
    while (data.length - at >= 5) {
      const type = data[at]!
      const end = at + 1 + data.readUInt32BE(at + 1)
      if (end > data.length) break
      switch (type) {
        case 0x50: // P Parse
          this.#expect(Sent.Parse)
          break
        case 0x42: // B Bind
          if (this.#hasToken(data, at)) {
            pieces ??= []
            if (at > kept) pieces.push(data.subarray(kept, at))
            this.#splice(data, at, end, pieces)
            kept = end
          }
          this.#expect(Sent.Bind)
          break
        case 0x44: // D Describe
          this.#expect(Sent.Describe)
          break
        case 0x45: // E Execute
          this.#expect(Sent.Execute)
          break
        case 0x43: // C Close
          this.#expect(Sent.Close)
          break
        case 0x53: // S Sync
          this.#expect(Sent.Sync)
          afterSync = end
          if (holdFrom >= 0) syncsHeld++
          break
        case 0x51: // Q Query
          this.#expect(Sent.Query)
          afterSync = end
          if (holdFrom >= 0) syncsHeld++
          break
        case 0x48: // H Flush: postgres.js asks for a statement's description first
          if (this.#held === null && holdFrom < 0 && this.#syncsInFlight > 0) holdFrom = afterSync
          break
        case 0x58: // X Terminate
        case 0x64: // d CopyData
        case 0x63: // c CopyDone
        case 0x66: // f CopyFail
          break
        default:
          throw new SpliceError(`unexpected message ${String.fromCharCode(type)} sent`)
      }
      at = end
    }
    if (at < data.length) this.#outCarry = Buffer.from(data.subarray(at))
    let bytes: Buffer
    if (pieces === null) bytes = at === data.length ? data : data.subarray(0, at)
    else {
      if (at > kept) pieces.push(data.subarray(kept, at))
      bytes = Buffer.concat(pieces)
      // Offsets into data no longer match: hold the whole chunk's tail from its rewritten end.
      if (holdFrom >= 0) holdFrom = bytes.length - (at - holdFrom)
    }
    return this.#hold(bytes, holdFrom, syncsHeld)
  }

  /**
   * What was held back and may go now (see #hold), or null. The caller sends
   * it after handing incoming() bytes to postgres.js.
   */
  released(): Buffer | null {
    if (this.#held === null || this.#holdFor > 0) return null
    const bytes = Buffer.concat(this.#held)
    this.#held = null
    return bytes
  }

  // postgres.js sends a statement's Parse and Describe with a Flush (not a
  // Sync) when it needs the parameter types first, pipelined behind other
  // statements. PgBouncer (before 1.21, transaction mode) gives the server
  // connection back at the earlier statement's ReadyForQuery and drops the
  // replies to the Parse: the statement never settles (raw postgres.js hangs
  // the same way). Held back until every Sync before it is answered, the
  // describe starts a transaction of its own. Everything written after it
  // waits too, in order.
  #hold(bytes: Buffer, from: number, syncsHeld: number): Buffer {
    if (this.#held !== null) {
      this.#held.push(bytes)
      return EMPTY
    }
    if (from < 0) return bytes
    this.#held = [bytes.subarray(from)]
    // The Syncs in flight before the held part (those sent now included).
    this.#holdFor = this.#syncsInFlight - syncsHeld
    return bytes.subarray(0, from)
  }

  /**
   * After incoming() threw: the bytes of its chunk before the reply that fits
   * nothing sent, replies that did fit (null when none). The caller passes
   * them on before ending the connection: a statement whose reply came whole
   * (a write that committed) resolves instead of failing as lost.
   */
  checked(): Buffer | null {
    return this.#checked
  }

  /** The bytes postgres.js is to read of what the server sent; null when nothing is left. Throws a SpliceError at a reply that fits nothing sent (see checked()). */
  incoming(chunk: Buffer): Buffer | null {
    let data = chunk
    if (this.#inCarry !== null) {
      data = Buffer.concat([this.#inCarry, chunk])
      this.#inCarry = null
    }
    let pieces: Buffer[] | null = null
    let kept = 0
    let at = 0
    while (at < data.length) {
      if (this.#remaining > 0) {
        const take = Math.min(this.#remaining, data.length - at)
        if (this.#dropping) {
          pieces ??= []
          if (at > kept) pieces.push(data.subarray(kept, at))
          kept = at + take
        }
        at += take
        this.#remaining -= take
        continue
      }
      // A header cut in two, or an ErrorResponse (read whole: its SQLSTATE
      // decides) cut anywhere: held back until
      // the rest arrives.
      if (data.length - at < 5 || (readWhole(data[at]!) && data.length - at < 1 + data.readUInt32BE(at + 1))) {
        this.#inCarry = Buffer.from(data.subarray(at))
        pieces ??= []
        if (at > kept) pieces.push(data.subarray(kept, at))
        kept = data.length
        break
      }
      const type = data[at]!
      this.#remaining = 1 + data.readUInt32BE(at + 1)
      try {
        this.#dropping = !this.#received(type, data, at)
      } catch (error) {
        // The messages before this one fit what was sent: kept for checked().
        const before = pieces ?? []
        if (at > kept) before.push(data.subarray(kept, at))
        this.#checked = before.length === 0 ? null : Buffer.concat(before)
        throw error
      }
    }
    if (pieces === null) return data
    if (kept < data.length) pieces.push(data.subarray(kept))
    if (pieces.length === 0) return null
    return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces)
  }

  #expect(kind: Sent, record?: Expected): void {
    if (this.#discarding) {
      if (kind !== Sent.Sync) return
      this.#discarding = false
    }
    if (kind === Sent.Sync || kind === Sent.Query) this.#syncsInFlight++
    this.#expected.push(record ?? PASSED[kind]!)
  }

  #hasToken(data: Buffer, at: number): boolean {
    // The portal name starts right after the 5-byte header; postgres.js's own
    // is empty (a NUL). Compared byte by byte: a native compare costs more
    // than these few bytes.
    const start = at + 5
    if (data[start] !== PREFIX[0] || data.length < start + PREFIX.length) return false
    for (let i = 1; i < PREFIX.length; i++) if (data[start + i] !== PREFIX[i]) return false
    return true
  }

  // The setter's messages, then the statement's Bind with its portal name
  // cleared (the unnamed portal, which its Execute runs).
  #splice(data: Buffer, at: number, end: number, pieces: Buffer[]): void {
    const nameEnd = data.indexOf(0, at + 5)
    if (nameEnd < 0 || nameEnd >= end) throw new SpliceError('malformed Bind')
    // Looked up by its bytes read one to one (latin1: cheaper than UTF-8), decoded only when new.
    const injection = this.#injectionFor(data.toString('latin1', at + 5 + PREFIX.length, nameEnd))
    // Not ours after all: sent as it is, the Bind names a portal that its
    // Execute (of the unnamed portal) does not run: the statement fails.
    if (injection === undefined) {
      pieces.push(data.subarray(at, end))
      return
    }
    const { text } = injection.setter
    const keep = this.options.keepStatement
    if (!keep || !this.#prepared.has(text)) {
      // Closing a statement that does not exist is no error: this clears one
      // that a failed setter left (PostgreSQL skipped the rest of its Sync),
      // or, kept, one whose Parse is still unanswered (it may succeed).
      pieces.push(injection.close, injection.parse)
      this.#expect(Sent.Close, INJECTED_CLOSE)
      this.#expect(Sent.Parse, injection.parsed)
    }
    pieces.push(injection.bindExecute)
    this.#expect(Sent.Bind, injection.bound)
    this.#expect(Sent.Execute, INJECTED_EXECUTE)
    // The statement's own Bind, portal name emptied: 'B', length, one NUL for the name, the rest as it was.
    const header = Buffer.allocUnsafe(6)
    header[0] = 0x42
    header.writeUInt32BE(5 + (end - nameEnd - 1), 1)
    header[5] = 0
    pieces.push(header, data.subarray(nameEnd + 1, end))
  }

  #injectionFor(bytes: string): Injection | undefined {
    let injection = injections.get(bytes)
    if (injection === undefined) {
      const setter = this.options.decode(Buffer.from(bytes, 'latin1').toString('utf8'))
      if (setter === undefined) return undefined
      // A bounded cache: one entry per tenant (and extra settings) in use.
      if (injections.size >= MAX_INJECTIONS) injections.clear()
      injection = buildInjection(setter)
      injections.set(bytes, injection)
    }
    return injection
  }

  /** Records a message received; false when postgres.js is not to see it. */
  #received(type: number, data: Buffer, at: number): boolean {
    if (!this.#ready) {
      if (type === 0x5a) this.#ready = true // Z: authenticated, idle
      return true
    }
    switch (type) {
      case 0x4e: // N Notice
      case 0x53: // S ParameterStatus
      case 0x41: // A Notification
        return true
      case 0x31: {
        // 1 ParseComplete
        const parsed = this.#take(Sent.Parse)
        if (parsed.setter !== undefined && this.options.keepStatement) this.#prepared.add(parsed.setter)
        return !parsed.injected
      }
      case 0x32: // 2 BindComplete
        return !this.#take(Sent.Bind).injected
      case 0x33: // 3 CloseComplete
        return !this.#take(Sent.Close).injected
      case 0x74: // t ParameterDescription (the first reply to a Describe of a statement)
        return !this.#peek(Sent.Describe).injected
      case 0x54: // T RowDescription
      case 0x6e: // n NoData
        if (this.#current()?.kind === Sent.Describe) return !this.#take(Sent.Describe).injected
        return !this.#current()?.injected
      case 0x43: // C CommandComplete
      case 0x49: // I EmptyQueryResponse
      case 0x73: // s PortalSuspended
        if (this.#current()?.kind === Sent.Execute) return !this.#take(Sent.Execute).injected
        this.#peek(Sent.Query)
        return true
      case 0x45: // E ErrorResponse
        this.#failed(data, at)
        return true
      case 0x5a: {
        // Z ReadyForQuery
        const current = this.#current()
        if (current === undefined || (current.kind !== Sent.Sync && current.kind !== Sent.Query)) {
          throw new SpliceError('ReadyForQuery out of turn')
        }
        this.#shift()
        this.#syncsInFlight--
        if (this.#held !== null) this.#holdFor--
        return true
      }
      default:
        // DataRow, COPY messages, FunctionCallResponse: part of the current reply.
        return !this.#current()?.injected
    }
  }

  // An error ends the current extended-protocol run: PostgreSQL skips to the
  // next Sync, so nothing sent before it gets a reply. A simple Query's
  // error is followed by its ReadyForQuery.
  #failed(data: Buffer, at: number): void {
    const current = this.#current()
    if (current === undefined || current.kind === Sent.Query) return
    if (current.injected && current.setter !== undefined) {
      // The setter's statement is missing (DISCARD ALL, a pooler that lost
      // it) or was never made: parse it again next time.
      if (current.kind === Sent.Parse || errorCode(data, at) === '26000') this.#prepared.delete(current.setter)
    }
    while (this.#current() !== undefined && this.#current()!.kind !== Sent.Sync) this.#shift()
    if (this.#current() === undefined) this.#discarding = true
  }

  #current(): Expected | undefined {
    return this.#expected[this.#head]
  }

  #peek(kind: Sent): Expected {
    const current = this.#current()
    if (current?.kind !== kind) throw new SpliceError('reply out of turn')
    return current
  }

  #take(kind: Sent): Expected {
    const current = this.#peek(kind)
    this.#shift()
    return current
  }

  #shift(): void {
    this.#head++
    if (this.#head > 1024 && this.#head * 2 > this.#expected.length) {
      this.#expected = this.#expected.slice(this.#head)
      this.#head = 0
    }
  }
}

const EMPTY = Buffer.alloc(0)

// E ErrorResponse.
const readWhole = (type: number) => type === 0x45

/** A setter's messages, built once per token. */
interface Injection {
  readonly setter: SpliceSetter
  readonly parse: Buffer
  readonly bindExecute: Buffer
  readonly close: Buffer
  readonly parsed: Expected
  readonly bound: Expected
}

const injections = new Map<string, Injection>()
const MAX_INJECTIONS = 4096
const INJECTED_EXECUTE: Expected = { kind: Sent.Execute, injected: true }
const INJECTED_CLOSE: Expected = { kind: Sent.Close, injected: true }

// The statement's name follows from the setter's text: the same on every connection.
function buildInjection(setter: SpliceSetter): Injection {
  const name = `tenantscope_setter_${setter.id}`
  return {
    setter,
    parse: parseMessage(name, setter.text),
    bindExecute: Buffer.concat([bindMessage(name, setter.values), EXECUTE_UNNAMED]),
    close: closeStatement(name),
    parsed: { kind: Sent.Parse, injected: true, setter: setter.text },
    bound: { kind: Sent.Bind, injected: true, setter: setter.text },
  }
}

const EXECUTE_UNNAMED = (() => {
  // 'E', length, portal '' (one NUL), max rows 0.
  const message = Buffer.alloc(10)
  message[0] = 0x45
  message.writeUInt32BE(9, 1)
  return message
})()

function parseMessage(name: string, text: string): Buffer {
  const nameLength = Buffer.byteLength(name)
  const textLength = Buffer.byteLength(text)
  const message = Buffer.alloc(1 + 4 + nameLength + 1 + textLength + 1 + 2)
  message[0] = 0x50
  message.writeUInt32BE(message.length - 1, 1)
  message.write(name, 5)
  message.write(text, 6 + nameLength)
  // Zero parameter types: PostgreSQL infers them (text for set_config).
  return message
}

function bindMessage(name: string, values: readonly string[]): Buffer {
  const encoded = values.map((value) => Buffer.from(value, 'utf8'))
  const nameLength = Buffer.byteLength(name)
  let length = 4 + 1 + nameLength + 1 + 2 + 2 + 2
  for (const value of encoded) length += 4 + value.length
  const message = Buffer.alloc(1 + length)
  message[0] = 0x42
  message.writeUInt32BE(length, 1)
  let at = 5
  message[at++] = 0 // the unnamed portal
  at += message.write(name, at)
  message[at++] = 0
  at = message.writeUInt16BE(0, at) // every parameter in text format
  at = message.writeUInt16BE(encoded.length, at)
  for (const value of encoded) {
    at = message.writeInt32BE(value.length, at)
    at += value.copy(message, at)
  }
  message.writeUInt16BE(0, at) // every result column in text format
  return message
}

function closeStatement(name: string): Buffer {
  const nameLength = Buffer.byteLength(name)
  const message = Buffer.alloc(1 + 4 + 1 + nameLength + 1)
  message[0] = 0x43
  message.writeUInt32BE(message.length - 1, 1)
  message[5] = 0x53 // S: a statement
  message.write(name, 6)
  return message
}

// The SQLSTATE of an ErrorResponse: field 'C'.
function errorCode(data: Buffer, at: number): string | undefined {
  const end = Math.min(data.length, at + 1 + data.readUInt32BE(at + 1))
  let field = at + 5
  while (field < end && data[field] !== 0) {
    const valueEnd = data.indexOf(0, field + 1)
    if (valueEnd < 0 || valueEnd >= end) return undefined
    if (data[field] === 0x43) return data.toString('utf8', field + 1, valueEnd)
    field = valueEnd + 1
  }
  return undefined
}
