import { AsyncResource } from 'node:async_hooks'
import { Duplex } from 'node:stream'
import { u16, u32 } from './wire-bytes.js'

/**
 * A socket for pg's Client that answers its frontend messages as PostgreSQL
 * would, with canned rows and no server: what the client's JavaScript costs
 * per operation, without a backend beside it on the CPU
 * (instructions-main.ts). Not a database: no SQL is run, no policy, no
 * setting. The tests that say what tenantscope does run against a real
 * PostgreSQL; this only lets the client path be counted alone.
 *
 * It speaks what the bench's read workloads send: the startup message, then
 * Parse / Bind / Describe / Execute / Sync (a statement, behind the setter's
 * Bind and Execute) and a simple Query. A SELECT's rows are made up from its
 * text: the columns of its SELECT list, as many rows as its LIMIT (else
 * one), `created_at` a timestamptz (pg parses it, as a real reply's), the
 * rest text; any other statement completes with its first word as the tag
 * and no rows. An Execute without a Describe before it (the setter's) gets
 * one row of one column. ReadyForQuery says 'T' from a BEGIN to its COMMIT
 * or ROLLBACK, as a server's does: tenantscope's statements inside a
 * transaction take the path they take on a real connection. Any other
 * message is refused with an error: a socket that stayed silent would leave
 * pg waiting for ever. Replies come on the next turn of the event loop, in
 * the scope of one async resource per socket, as a TCP handle's data does.
 */
export class CannedSocket extends Duplex {
  #pending: Buffer = Buffer.alloc(0)
  #started = false
  // Statement texts by name ('' the unnamed one): a Bind names its statement.
  readonly #texts = new Map<string, string>()
  #boundText = ''
  #described = false
  #ready = READY_IDLE
  #out: Buffer[] = []
  readonly #handle = new AsyncResource('CANNEDSOCKET')
  readonly #deliver = (reply: Buffer): void => {
    this.#handle.runInAsyncScope(() => this.push(reply))
  }

  // What pg's Connection calls on a net.Socket.
  setNoDelay(): this {
    return this
  }
  setKeepAlive(): this {
    return this
  }
  ref(): this {
    return this
  }
  unref(): this {
    return this
  }
  connect(): this {
    process.nextTick(() => this.emit('connect'))
    return this
  }

  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.#take(chunk)
    callback()
  }
  override _writev(chunks: Array<{ chunk: Buffer }>, callback: () => void): void {
    for (const { chunk } of chunks) this.#take(chunk)
    callback()
  }
  override _final(callback: () => void): void {
    this.push(null)
    callback()
  }

  #take(chunk: Buffer): void {
    this.#pending = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk
    for (;;) {
      const buffer = this.#pending
      // The startup message has no type byte.
      const head = this.#started ? 1 : 0
      if (buffer.length < head + 4) break
      const end = head + buffer.readInt32BE(head)
      if (buffer.length < end) break
      this.#pending = buffer.subarray(end)
      if (this.#started) this.#answer(buffer[0]!, buffer.subarray(5, end))
      else {
        this.#started = true
        this.#out.push(STARTUP_REPLY)
      }
    }
    if (this.#out.length > 0) {
      const reply = Buffer.concat(this.#out)
      this.#out = []
      setImmediate(this.#deliver, reply)
    }
  }

  #answer(type: number, body: Buffer): void {
    switch (String.fromCharCode(type)) {
      case 'P': {
        const [name, text] = cstrings(body, 2)
        this.#texts.set(name!, text!)
        this.#out.push(PARSE_COMPLETE)
        break
      }
      case 'B': {
        const [, statement] = cstrings(body, 2) // portal, statement
        this.#boundText = this.#texts.get(statement!) ?? ''
        this.#described = false
        this.#out.push(BIND_COMPLETE)
        break
      }
      case 'D':
        this.#described = true
        this.#out.push(replyFor(this.#boundText).description)
        break
      case 'E': {
        const reply = this.#described ? replyFor(this.#boundText) : SETTER_REPLY
        this.#out.push(reply.rows, reply.complete)
        this.#ready = reply.ready ?? this.#ready
        this.#described = false
        break
      }
      case 'S':
        this.#out.push(this.#ready)
        break
      case 'Q': {
        const reply = replyFor(body.toString('utf8', 0, body.length - 1))
        // A simple Query's reply has no NoData: a statement without rows has its tag alone.
        if (reply.description !== NO_DATA) this.#out.push(reply.description)
        this.#ready = reply.ready ?? this.#ready
        this.#out.push(reply.rows, reply.complete, this.#ready)
        break
      }
      case 'X':
        this.push(null)
        break
      default:
        this.destroy(new Error(`CannedSocket: no canned reply to a message of type ${JSON.stringify(String.fromCharCode(type))}`))
    }
  }
}

// The first `count` NUL-terminated strings of a message body.
function cstrings(body: Buffer, count: number): string[] {
  const strings: string[] = []
  let at = 0
  for (let i = 0; i < count; i++) {
    const end = body.indexOf(0, at)
    strings.push(body.toString('utf8', at, end))
    at = end + 1
  }
  return strings
}

interface Reply {
  description: Buffer
  rows: Buffer
  complete: Buffer
  /** The ReadyForQuery after it, where the statement opens or ends a transaction. */
  ready?: Buffer
}

const TEXT = 25
const TIMESTAMPTZ = 1184
const replies = new Map<string, Reply>()

// The canned reply to `text`, made once per text.
function replyFor(text: string): Reply {
  let reply = replies.get(text)
  if (reply === undefined) {
    const select = /^\s*select\s+(.+?)(?:\s+from\b|$)/is.exec(text)
    if (!select) {
      // BEGIN, COMMIT, SET...: the tag alone.
      const tag = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? ''
      const ready = tag === 'BEGIN' ? READY_IN_TRANSACTION : tag === 'COMMIT' || tag === 'ROLLBACK' ? READY_IDLE : undefined
      reply = { description: NO_DATA, rows: Buffer.alloc(0), complete: message('C', cstring(tag)), ready }
      replies.set(text, reply)
      return reply
    }
    const columns = select[1]!.split(',').map((column) => column.trim())
    const limit = /\blimit\s+(\d+)/i.exec(text)
    const count = limit ? Number(limit[1]) : 1
    const row = message(
      'D',
      u16(columns.length),
      ...columns.map((column) => cell(column === 'created_at' ? '2026-11-30 10:00:00.123+00' : `${column} 0b7c2f2e-4000-8000`)),
    )
    reply = {
      description: message(
        'T',
        u16(columns.length),
        ...columns.map((column) => fieldDescription(column, column === 'created_at' ? TIMESTAMPTZ : TEXT)),
      ),
      rows: Buffer.concat(Array.from({ length: count }, () => row)),
      complete: message('C', Buffer.from(`SELECT ${count}\0`)),
    }
    replies.set(text, reply)
  }
  return reply
}

function message(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts)
  const head = Buffer.alloc(5)
  head.write(type, 0, 'latin1')
  head.writeInt32BE(body.length + 4, 1)
  return Buffer.concat([head, body])
}
const cstring = (value: string) => Buffer.from(`${value}\0`)
const cell = (value: string) => Buffer.concat([u32(Buffer.byteLength(value)), Buffer.from(value)])
// name, table oid, column number, type oid, type size, type modifier, format (text)
const fieldDescription = (name: string, type: number) => Buffer.concat([cstring(name), u32(0), u16(0), u32(type), u16(-1), u32(-1), u16(0)])

const STARTUP_REPLY = Buffer.concat([
  message('R', u32(0)), // AuthenticationOk
  message('S', cstring('client_encoding'), cstring('UTF8')),
  message('S', cstring('server_version'), cstring('15.0')),
  message('K', u32(1), u32(2)), // BackendKeyData
  message('Z', Buffer.from('I')),
])
const PARSE_COMPLETE = message('1')
const BIND_COMPLETE = message('2')
const READY_IDLE = message('Z', Buffer.from('I'))
const READY_IN_TRANSACTION = message('Z', Buffer.from('T'))
const NO_DATA = message('n')
// Never described: only its row and its tag are sent.
const SETTER_REPLY: Reply = {
  description: NO_DATA,
  rows: message('D', u16(1), cell('0b7c2f2e-0000-4000-8000-000000000001')),
  complete: message('C', Buffer.from('SELECT 1\0')),
}
