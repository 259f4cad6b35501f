import { connect, createServer, type Server, type Socket } from 'node:net'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createTestDatabase, type TestDatabase, throughLocalPort } from '@tenantscope/test-harness'
import pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { copyOut } from '../../src/copy-out.js'
import { CopyOutParser } from '../../src/copy-out-parser.js'

// The export's COPY reader against what a real server sends: the bytes of a
// COPY recorded from the socket and cut at every position, and COPYs on live
// connections with notices, an error, a killed backend and a consumer that
// gives up in the middle.

// Rows COPY must escape (tab, newline, backslash, NULL), multibyte text, and one row longer than a socket read.
const ROWS = `SELECT g, CASE WHEN g % 5 = 0 THEN NULL ELSE 'row ' || g || E'\\t\\n\\\\ é€😀' END AS t,
                    CASE WHEN g = 7 THEN repeat('x', 70000) ELSE '' END AS long FROM generate_series(1, 40) g`

describe('COPY OUT read in bulk', () => {
  let db: TestDatabase
  let client: pg.Client
  let admin: pg.Client

  beforeAll(async () => {
    db = await createTestDatabase()
    admin = new pg.Client({ connectionString: db.adminUrl })
    await admin.connect()
    // A notice every third row, in the middle of the COPY's data.
    await admin.query(`CREATE FUNCTION noisy(i int) RETURNS int LANGUAGE plpgsql AS $$
      BEGIN IF i % 3 = 0 THEN RAISE NOTICE 'row %', i; END IF; RETURN i; END $$`)
    client = new pg.Client({ connectionString: db.adminUrl })
    client.on('error', () => undefined)
    await client.connect()
  })
  afterAll(async () => {
    await client?.end().catch(() => undefined)
    await admin?.end()
    await db?.drop()
  })

  // What pg-copy-streams reads for the same statement: the reference.
  async function reference(sql: string): Promise<Buffer> {
    const chunks: Buffer[] = []
    await pipeline(client.query(copyTo(sql)), collect(chunks))
    return Buffer.concat(chunks)
  }

  // The server's bytes for one statement, as they came off the socket (pg parses them meanwhile).
  async function record(sql: string): Promise<Buffer> {
    const recorder = new pg.Client({ connectionString: db.adminUrl })
    await recorder.connect()
    const socket = (recorder as unknown as { connection: { stream: Socket } }).connection.stream
    const bytes: Buffer[] = []
    const listener = (chunk: Buffer) => bytes.push(Buffer.from(chunk))
    socket.prependListener('data', listener)
    await recorder.query(sql).catch(() => undefined)
    socket.removeListener('data', listener)
    await recorder.end()
    return Buffer.concat(bytes)
  }

  // Feeds the parser `pieces` (each a fresh copy: it writes into them); returns the data, and the rest with what followed it.
  function parseInPieces(pieces: Buffer[]): { data: Buffer; rest: Buffer | undefined } {
    const parser = new CopyOutParser()
    const data: Buffer[] = []
    const rest: Buffer[] = []
    for (const piece of pieces) {
      if (parser.ended) {
        rest.push(piece)
        continue
      }
      const parsed = parser.parse(Buffer.from(piece))
      if (parsed.data) data.push(Buffer.from(parsed.data))
      if (parsed.rest) rest.push(Buffer.from(parsed.rest))
    }
    return { data: Buffer.concat(data), rest: parser.ended ? Buffer.concat(rest) : undefined }
  }

  // Where each message begins, by their lengths.
  function messageStarts(bytes: Buffer): number[] {
    const starts: number[] = []
    for (let at = 0; at < bytes.length; at += 1 + bytes.readUInt32BE(at + 1)) starts.push(at)
    return starts
  }
  // Where the first message that ends the COPY phase begins.
  const endOfCopyPhase = (bytes: Buffer) => messageStarts(bytes).find((at) => !'dHNSA'.includes(String.fromCharCode(bytes[at]!)))!

  test('split at every byte: the same data as pg-copy-streams, and the rest (CopyDone onwards) untouched for pg', async () => {
    const sql = `COPY (SELECT noisy(g), t, long FROM (${ROWS}) r) TO STDOUT`
    const expected = await reference(sql)
    const recorded = await record(sql)
    // ParameterStatus can come at any time; servers since 14 report changes only when idle, so one is spliced in (before the 10th message).
    const parameterStatus = Buffer.concat([
      Buffer.from('S'),
      int32(4 + 'application_name\0x\0'.length),
      Buffer.from('application_name\0x\0'),
    ])
    const tenth = messageStarts(recorded)[10]!
    const bytes = Buffer.concat([recorded.subarray(0, tenth), parameterStatus, recorded.subarray(tenth)])
    const end = endOfCopyPhase(bytes)
    expect(bytes[end]).toBe('c'.charCodeAt(0))
    expect(bytes.subarray(0, end).includes(Buffer.from('NOTICE'))).toBe(true)
    // The long row: cut at every byte elsewhere, every 97 bytes inside it.
    const long = messageStarts(bytes).find((at) => bytes.readUInt32BE(at + 1) > 60000)!
    const longEnd = long + 1 + bytes.readUInt32BE(long + 1)

    expect(parseInPieces([bytes])).toEqual({ data: expected, rest: bytes.subarray(end) })
    for (let cut = 0; cut <= bytes.length; cut += cut > long + 100 && cut < longEnd - 100 ? 97 : 1) {
      const parsed = parseInPieces([bytes.subarray(0, cut), bytes.subarray(cut)])
      if (!parsed.data.equals(expected) || !parsed.rest?.equals(bytes.subarray(end))) {
        throw new Error(`wrong result with a cut at byte ${cut}`)
      }
    }
    // Every boundary at once, and three-piece cuts around each header of the first messages.
    const bytewise = [...bytes].map((byte) => Buffer.from([byte]))
    expect(parseInPieces(bytewise)).toEqual({ data: expected, rest: bytes.subarray(end) })
    for (let a = 0; a < 400; a++) {
      for (let b = a; b < a + 12; b++) {
        const parsed = parseInPieces([bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)])
        if (!parsed.data.equals(expected)) throw new Error(`wrong result with cuts at ${a} and ${b}`)
      }
    }
  })

  test('an ErrorResponse in the middle of the data: split anywhere, it ends the COPY phase with the rows before it', async () => {
    const sql = `COPY (SELECT g, 100 / (30 - g) FROM generate_series(1, 40) g) TO STDOUT`
    const bytes = await record(sql)
    const end = endOfCopyPhase(bytes)
    expect(bytes[end]).toBe('E'.charCodeAt(0))
    const whole = parseInPieces([bytes])
    expect(whole.rest).toEqual(bytes.subarray(end))
    expect(whole.data.toString().split('\n').at(-2)).toBe('29\t100')
    for (let cut = 0; cut <= bytes.length; cut++) expect(parseInPieces([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(whole)
  })

  test('a live COPY with notices: the same text and row count as pg-copy-streams, and the connection goes on', async () => {
    const sql = `COPY (SELECT noisy(g), t, long FROM (${ROWS}) r) TO STDOUT`
    const expected = await reference(sql)
    const chunks: Buffer[] = []
    const stream = client.query(copyOut(sql))
    await pipeline(stream, collect(chunks))
    expect(Buffer.concat(chunks)).toEqual(expected)
    expect(stream.rowCount).toBe(40)
    // The stream ended with CommandComplete; pg has the connection back, in order.
    expect((await client.query('SELECT 41 AS n')).rows).toEqual([{ n: 41 }])
  })

  test('messages cut into pieces on the wire: the same text, and pg still parses what follows the COPY', async () => {
    const proxy = await slicingProxy(db.adminUrl, 7)
    const sliced = new pg.Client({ connectionString: throughLocalPort(db.adminUrl, proxy.port) })
    await sliced.connect()
    try {
      const sql = `COPY (SELECT noisy(g), t FROM (${ROWS}) r WHERE g < 20) TO STDOUT`
      const expected = await reference(sql)
      for (let i = 0; i < 3; i++) {
        const chunks: Buffer[] = []
        const stream = sliced.query(copyOut(sql))
        await pipeline(stream, collect(chunks))
        expect(Buffer.concat(chunks)).toEqual(expected)
        expect(stream.rowCount).toBe(19)
        expect((await sliced.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
      }
      expect(proxy.reads()).toBeGreaterThan(100)
    } finally {
      await sliced.end()
      await proxy.close()
    }
  })

  test('an error in the middle of a live COPY: the stream fails with the server error, and the connection is usable after', async () => {
    const chunks: Buffer[] = []
    const error = await pipeline(
      client.query(copyOut(`COPY (SELECT g, 100 / (3000 - g) FROM generate_series(1, 4000) g) TO STDOUT`)),
      collect(chunks),
    ).catch((e) => e)
    expect(error).toMatchObject({ code: '22012' })
    expect(Buffer.concat(chunks).toString()).toMatch(/^1\t0\n2\t0\n/)
    expect((await client.query('SELECT 2 AS n')).rows).toEqual([{ n: 2 }])
  })

  test('a statement that fails before any data: the stream fails, the connection goes on', async () => {
    const error = await pipeline(client.query(copyOut(`COPY (SELECT * FROM no_such_table) TO STDOUT`)), collect([])).catch((e) => e)
    expect(error).toMatchObject({ code: '42P01' })
    expect((await client.query('SELECT 3 AS n')).rows).toEqual([{ n: 3 }])
  })

  test('a consumer that fails mid-COPY: the error is its own, and the rest of the COPY is drained so that the connection is usable', async () => {
    let seen = 0
    const failing = new Writable({
      write(chunk: Buffer, _encoding, done) {
        seen += chunk.length
        // Fails late, once the stream has stopped reading the socket (its buffer full).
        if (seen > 100_000) setTimeout(() => done(new Error('disk full')), 100)
        else done()
      },
    })
    const stream = client.query(copyOut(`COPY (SELECT g, repeat('y', 100) FROM generate_series(1, 200000) g) TO STDOUT`))
    await expect(pipeline(stream, failing)).rejects.toThrow('disk full')
    // Waits for the COPY's end: without the drain, this query would never run.
    expect((await client.query('SELECT 4 AS n')).rows).toEqual([{ n: 4 }])
    expect(seen).toBeLessThan(20_000_000)
  })

  test('a backend terminated mid-COPY while the consumer is slow: the stream fails (no hang), and the client reports it', async () => {
    const victim = new pg.Client({ connectionString: db.adminUrl })
    const clientErrors: Error[] = []
    victim.on('error', (error) => clientErrors.push(error))
    await victim.connect()
    const pid = (await victim.query('SELECT pg_backend_pid() AS pid')).rows[0].pid
    let release!: () => void
    const released = new Promise<void>((resolve) => (release = resolve))
    let firstChunk!: () => void
    const started = new Promise<void>((resolve) => (firstChunk = resolve))
    let received = 0
    // Holds the first chunk until the backend is gone: the socket stops being read meanwhile.
    const slow = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _encoding, done) {
        received += chunk.length
        if (received === chunk.length) {
          firstChunk()
          void released.then(() => done())
        } else done()
      },
    })
    const copying = pipeline(
      victim.query(copyOut(`COPY (SELECT g, repeat('z', 200) FROM generate_series(1, 5000000) g) TO STDOUT`)),
      slow,
    ).catch((e: unknown) => e)
    await started
    await admin.query('SELECT pg_terminate_backend($1)', [pid])
    await expect
      .poll(async () => (await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [pid])).rows[0].n)
      .toBe(0)
    release()
    const error = (await copying) as Error
    expect(error).toBeInstanceOf(Error)
    expect(String(error.message)).toMatch(/terminat/i)
    expect(received).toBeLessThan(5_000_000 * 200)
    await expect(victim.query('SELECT 1')).rejects.toThrow()
    await victim.end().catch(() => undefined)
  })
})

function collect(chunks: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk))
      done()
    },
  })
}

function int32(value: number): Buffer {
  const buffer = Buffer.alloc(4)
  buffer.writeUInt32BE(value)
  return buffer
}

// A TCP proxy that passes the server's bytes on in pieces of `size`, one per turn of the event loop.
async function slicingProxy(url: string, size: number): Promise<{ port: number; reads(): number; close(): Promise<void> }> {
  const target = new URL(url)
  const sockets = new Set<Socket>()
  let reads = 0
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname)
    sockets.add(client).add(upstream)
    client.on('data', (chunk) => upstream.write(chunk))
    client.on('data', () => undefined)
    let queue = Promise.resolve()
    upstream.on('data', (chunk: Buffer) => {
      queue = queue.then(async () => {
        for (let at = 0; at < chunk.length; at += size) {
          client.write(chunk.subarray(at, at + size))
          reads++
          await new Promise((resolve) => setTimeout(resolve, 0))
        }
      })
    })
    const end = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('close', end)
    upstream.on('close', end)
    client.on('error', end)
    upstream.on('error', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    reads: () => reads,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
