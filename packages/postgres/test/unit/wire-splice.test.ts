import { describe, expect, test } from 'vitest'
import { decodeToken, encodeToken } from '../../src/tenant-token.js'
import { SpliceError, TOKEN_PREFIX, WireSplice } from '../../src/wire-splice.js'

// Protocol messages built by hand: type byte, int32 length, body.
const message = (type: string, body: Buffer = Buffer.alloc(0)) => {
  const header = Buffer.alloc(5)
  header[0] = type.charCodeAt(0)
  header.writeUInt32BE(4 + body.length, 1)
  return Buffer.concat([header, body])
}
const cstr = (text: string) => Buffer.from(`${text}\0`, 'utf8')
const int16 = (n: number) => Buffer.from([n >> 8, n & 0xff])
const bind = (portal: string, statement: string) =>
  message('B', Buffer.concat([cstr(portal), cstr(statement), int16(0), int16(0), int16(0)]))
const execute = message('E', Buffer.concat([cstr(''), Buffer.alloc(4)]))
const sync = message('S')
const ready = message('Z', Buffer.from('I'))
const error = (code: string) => message('E', Buffer.concat([cstr('SERROR'), cstr(`C${code}`), cstr('Mboom'), Buffer.from([0])]))
const complete = (tag: string) => message('C', cstr(tag))
const dataRow = message('D', Buffer.concat([int16(1), Buffer.from([0, 0, 0, 1]), Buffer.from('x')]))

/** The type letters of a run of messages. */
function types(bytes: Buffer): string {
  let out = ''
  for (let at = 0; at < bytes.length; at += 1 + bytes.readUInt32BE(at + 1)) out += String.fromCharCode(bytes[at]!)
  return out
}

const setter = { text: 'SELECT set_config($1, $2, true)', values: ['app.current_tenant', 'tenant-a'] }

function connected(keepStatement = true): WireSplice {
  const wire = new WireSplice({ keepStatement, decode: decodeToken })
  // Startup: untracked until the first ReadyForQuery.
  expect(wire.outgoing(Buffer.from([0, 0, 0, 8, 0, 3, 0, 0]))).toHaveLength(8)
  expect(wire.incoming(ready)).toEqual(ready)
  return wire
}

// The replies PostgreSQL sends for Close and Parse(setter), Bind/Execute(setter), Bind/Execute(statement), Sync.
const repliesWithParse = Buffer.concat([
  message('3'),
  message('1'),
  message('2'),
  dataRow,
  complete('SELECT 1'),
  message('2'),
  dataRow,
  complete('SELECT 1'),
  ready,
])
const statementReplies = Buffer.concat([message('2'), dataRow, complete('SELECT 1'), ready])

describe('WireSplice', () => {
  test('puts the setter before a tokened Bind under its Sync, and hides only its replies', () => {
    const wire = connected()
    const sent = wire.outgoing(Buffer.concat([bind(encodeToken(setter), 's1'), execute, sync]))
    expect(types(sent)).toBe('CPBEBES')
    // The statement's Bind names the unnamed portal again.
    expect(sent.includes(Buffer.from(TOKEN_PREFIX))).toBe(false)
    expect(sent.includes(Buffer.from('tenant-a'))).toBe(true)
    expect(types(wire.incoming(repliesWithParse)!)).toBe('2DCZ')
    // The setter's statement is kept: the next one binds it without a Parse.
    expect(types(wire.outgoing(Buffer.concat([bind(encodeToken(setter), 's1'), execute, sync])))).toBe('BEBES')
  })

  test('a token with non-ASCII values: the setter binds them as they were, each token its own', () => {
    const wire = connected()
    const kept = Buffer.concat([message('2'), dataRow, complete('SELECT 1'), message('2'), dataRow, complete('SELECT 1'), ready])
    for (const [index, id] of ['tenant-é', 'tenant-ü🙂', 'tenant-é'].entries()) {
      const sent = wire.outgoing(Buffer.concat([bind(encodeToken({ ...setter, values: ['app.current_tenant', id] }), 's1'), execute, sync]))
      const value = Buffer.from(id, 'utf8')
      // The value as the setter's bind parameter: its int32 length, then its UTF-8 bytes.
      const lengthThenValue = Buffer.concat([Buffer.from([0, 0, 0, value.length]), value])
      expect({ id, bound: sent.includes(lengthThenValue) }).toEqual({ id, bound: true })
      // The setter's statement is parsed with the first only.
      expect(types(wire.incoming(index === 0 ? repliesWithParse : kept)!)).toBe('2DCZ')
    }
  })

  test('two tokens whose bytes differ only in the high bit each bind their own value', () => {
    // Tokens are looked up by their raw bytes: a key that dropped the high
    // bit would read 'é' (C3 A9) as 'C)' (43 29) and bind one tenant's value for the other.
    const wire = connected(false)
    for (const id of ['x-é', 'x-C)', 'x-é', 'x-C)']) {
      const sent = wire.outgoing(Buffer.concat([bind(encodeToken({ ...setter, values: ['app.current_tenant', id] }), 's1'), execute, sync]))
      const value = Buffer.from(id, 'utf8')
      expect({ id, bound: sent.includes(Buffer.concat([Buffer.from([0, 0, 0, value.length]), value])) }).toEqual({ id, bound: true })
    }
  })

  test('reads replies cut at any byte', () => {
    for (let cut = 1; cut < repliesWithParse.length; cut++) {
      const wire = connected()
      wire.outgoing(Buffer.concat([bind(encodeToken(setter), 's1'), execute, sync]))
      const first = wire.incoming(repliesWithParse.subarray(0, cut)) ?? Buffer.alloc(0)
      const second = wire.incoming(repliesWithParse.subarray(cut)) ?? Buffer.alloc(0)
      expect(types(Buffer.concat([first, second]))).toBe('2DCZ')
    }
    const wire = connected()
    wire.outgoing(Buffer.concat([bind(encodeToken(setter), 's1'), execute, sync]))
    const bytes: Buffer[] = []
    for (let at = 0; at < repliesWithParse.length; at++) {
      const out = wire.incoming(repliesWithParse.subarray(at, at + 1))
      if (out !== null) bytes.push(out)
    }
    expect(types(Buffer.concat(bytes))).toBe('2DCZ')
  })

  test("a setter's error reaches postgres.js; PostgreSQL's skipping to the Sync is followed", () => {
    const wire = connected()
    wire.outgoing(Buffer.concat([bind(encodeToken(setter), 's1'), execute, sync, bind('', 's2'), execute, sync]))
    // Parse fine, the setter's Bind fails: nothing else of that Sync is answered.
    const out = wire.incoming(
      Buffer.concat([message('3'), message('1'), error('22023'), ready, message('2'), dataRow, complete('SELECT 1'), ready]),
    )
    expect(types(out!)).toBe('EZ2DCZ')
  })

  test('a lost setter statement (26000) is parsed again next time', () => {
    const wire = connected()
    wire.outgoing(Buffer.concat([bind(encodeToken(setter), 's1'), execute, sync]))
    wire.incoming(repliesWithParse)
    wire.outgoing(Buffer.concat([bind(encodeToken(setter), 's1'), execute, sync]))
    expect(types(wire.incoming(Buffer.concat([error('26000'), ready]))!)).toBe('EZ')
    expect(types(wire.outgoing(Buffer.concat([bind(encodeToken(setter), 's1'), execute, sync])))).toBe('CPBEBES')
  })

  test('a 26000 in an ErrorResponse cut before its code field is still read', () => {
    const failure = Buffer.concat([error('26000'), ready])
    for (let cut = 1; cut < failure.length; cut++) {
      const wire = connected()
      wire.outgoing(Buffer.concat([bind(encodeToken(setter), 's1'), execute, sync]))
      wire.incoming(repliesWithParse)
      wire.outgoing(Buffer.concat([bind(encodeToken(setter), 's1'), execute, sync]))
      const first = wire.incoming(failure.subarray(0, cut)) ?? Buffer.alloc(0)
      const second = wire.incoming(failure.subarray(cut)) ?? Buffer.alloc(0)
      expect(Buffer.concat([first, second])).toEqual(failure)
      expect(types(wire.outgoing(Buffer.concat([bind(encodeToken(setter), 's1'), execute, sync])))).toBe('CPBEBES')
    }
  })

  test("the setter's statement counts as kept only once its ParseComplete came: a statement's failed Parse before it skips it", () => {
    const wire = connected()
    const parse = message('P', Buffer.concat([cstr('s1'), cstr('SELEC 1'), int16(0)]))
    wire.outgoing(Buffer.concat([parse, bind(encodeToken(setter), 's1'), execute, sync]))
    // Sent before the reply: the setter's Parse is unconfirmed, closed and parsed again.
    expect(types(wire.outgoing(Buffer.concat([bind(encodeToken(setter), 's2'), execute, sync])))).toBe('CPBEBES')
    // The statement's Parse fails: PostgreSQL skips the setter's Close and Parse.
    expect(types(wire.incoming(Buffer.concat([error('42601'), ready]))!)).toBe('EZ')
    expect(types(wire.outgoing(Buffer.concat([bind(encodeToken(setter), 's3'), execute, sync])))).toBe('CPBEBES')
    // The second statement's replies: now confirmed, the next one binds it without a Parse.
    expect(types(wire.incoming(repliesWithParse)!)).toBe('2DCZ')
    expect(types(wire.incoming(repliesWithParse)!)).toBe('2DCZ')
    expect(types(wire.outgoing(Buffer.concat([bind(encodeToken(setter), 's4'), execute, sync])))).toBe('BEBES')
  })

  test('with keepStatement false the setter is closed (whatever a failed run left) and parsed with every statement', () => {
    const wire = connected(false)
    for (let i = 0; i < 2; i++) {
      expect(types(wire.outgoing(Buffer.concat([bind(encodeToken(setter), ''), execute, sync])))).toBe('CPBEBES')
      const replies = Buffer.concat([message('3'), message('1'), message('2'), dataRow, complete('SELECT 1'), statementReplies])
      expect(types(wire.incoming(replies)!)).toBe('2DCZ')
    }
  })

  test('an unknown token is sent as it is: its Bind names a portal the Execute does not run', () => {
    const wire = connected()
    const unknown = bind(`${TOKEN_PREFIX}999999:["x"]`, 's1')
    expect(wire.outgoing(Buffer.concat([unknown, execute, sync]))).toEqual(Buffer.concat([unknown, execute, sync]))
    expect(decodeToken('999999:["x"]')).toBeUndefined()
    expect(decodeToken('0:not json')).toBeUndefined()
    expect(decodeToken('0:[1]')).toBeUndefined()
  })

  test('untokened traffic passes through unchanged, replies too', () => {
    const wire = connected()
    const sent = Buffer.concat([bind('', 's1'), execute, sync, message('Q', cstr('select 1'))])
    expect(wire.outgoing(sent)).toEqual(sent)
    const replies = Buffer.concat([statementReplies, message('T', int16(0)), dataRow, complete('SELECT 1'), ready])
    expect(wire.incoming(replies)).toEqual(replies)
  })

  test('a describe (Parse, Describe, Flush) pipelined behind a Sync waits for its ReadyForQuery, and what follows it too', () => {
    const wire = connected()
    const parse = message('P', Buffer.concat([cstr(''), cstr('select $1'), int16(0)]))
    const describe = message('D', Buffer.concat([Buffer.from('S'), cstr('')]))
    const flush = message('H')
    expect(types(wire.outgoing(Buffer.concat([bind('', 's1'), execute, sync, parse, describe, flush])))).toBe('BES')
    expect(wire.outgoing(Buffer.concat([bind('', 's2'), execute, sync]))).toHaveLength(0)
    expect(wire.released()).toBeNull()
    expect(types(wire.incoming(Buffer.concat([message('2'), dataRow])) ?? Buffer.alloc(0))).toBe('2D')
    expect(wire.released()).toBeNull()
    expect(types(wire.incoming(Buffer.concat([complete('SELECT 1'), ready]))!)).toBe('CZ')
    expect(types(wire.released()!)).toBe('PDHBES')
    expect(wire.released()).toBeNull()
    // Nothing in flight: sent at once.
    expect(
      types(wire.incoming(Buffer.concat([message('1'), message('t', int16(0)), message('n'), message('2'), complete('SELECT 0'), ready]))!),
    ).toBe('1tn2CZ')
    expect(types(wire.outgoing(Buffer.concat([parse, describe, flush])))).toBe('PDH')
  })

  test('a reply that fits nothing sent throws: the connection is ended', () => {
    const wire = connected()
    expect(() => wire.incoming(message('2'))).toThrow(SpliceError)
    const other = connected()
    other.outgoing(Buffer.concat([bind('', 's1'), execute, sync]))
    expect(() => other.incoming(message('1'))).toThrow(SpliceError)
    expect(other.checked()).toBeNull()
  })

  test('a reply that fits nothing sent, behind replies that fit in the same chunk: those are kept for postgres.js', () => {
    const wire = connected()
    wire.outgoing(Buffer.concat([bind(encodeToken(setter), 's1'), execute, sync]))
    expect(() => wire.incoming(Buffer.concat([repliesWithParse, message('2')]))).toThrow(SpliceError)
    // The setter's replies dropped, the statement's kept.
    expect(types(wire.checked()!)).toBe('2DCZ')
  })
})
