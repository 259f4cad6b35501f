// The statement lexer against PostgreSQL itself: scripts of SELECTs built
// from the spellings that decide where a statement ends (strings of every
// kind, quoted identifiers, dollar quotes, nested and line comments, white
// space) are run by the server through the simple protocol, which answers
// once per statement. The lexer must find exactly as many statements, with
// standard_conforming_strings on and off.
import fc from 'fast-check'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { lexStatements } from '../../src/statement-lexer.js'
import { useFixture } from './_fixtures.js'

const values = [
  `1`,
  `'a;b'`,
  `'it''s; --'`,
  `E'\\'; /*'`,
  `e'x\\\\'`,
  `$$;$$`,
  `$q$ $$ ; $q$`,
  `$a$ $b$a$`,
  `$a$ $xa$ ; $a$`,
  `B'01'`,
  `X'0A'`,
  `N';'`,
  `U&'d\\0061t;'`,
  `1 AS "a;b"`,
  `1 AS "a"";b"`,
  `'x' || 'y;'`,
  `(1)`,
  `1::int`,
  `2*/* ; */3`,
]
const gaps = [' ', '\n', '\t', '\r', '\f', '/* ; */', '/* /* ; */ ; */', '-- ;\n', '-- ;\r', '--\r', '/**/']
// With standard_conforming_strings off, a backslash escapes in a plain string.
const backslashValues = [`'a\\''`, `'\\\\'`, `'x\\';y'`, `N'\\';'`]

const gap = fc.constantFrom(...gaps)
const statement = (items: readonly string[]) =>
  fc
    .tuple(gap, fc.array(fc.constantFrom(...items), { minLength: 1, maxLength: 3 }), gap)
    .map(([before, chosen, after]) => `${before}SELECT ${chosen.join(', ')}${after}`)
const script = (items: readonly string[]) =>
  fc
    .tuple(fc.array(statement(items), { minLength: 1, maxLength: 4 }), fc.constantFrom(';', ';;', ' ; ', ';\n'), fc.boolean())
    .map(([statements, separator, trailing]) => statements.join(separator) + (trailing ? ';' : ''))

describe('the statement lexer splits scripts as PostgreSQL does', () => {
  const f = useFixture()
  let client: pg.Client

  beforeAll(async () => {
    client = new pg.Client({ connectionString: f.db.appUrl })
    await client.connect()
  })
  afterAll(() => client?.end())

  async function serverStatements(text: string): Promise<number> {
    const result = (await client.query(text)) as pg.QueryResult | pg.QueryResult[]
    return Array.isArray(result) ? result.length : 1
  }

  test('standard_conforming_strings on (the default)', async () => {
    await fc.assert(
      fc.asyncProperty(script(values), async (text) => {
        const lexed = lexStatements(text)
        expect(lexed.statements.map((tokens) => tokens[0])).toEqual(lexed.statements.map(() => 'select'))
        expect(lexed.statements.length).toBe(await serverStatements(text))
      }),
      { numRuns: 300, seed: 20261201 },
    )
  })

  test('standard_conforming_strings off: backslashes escape in plain strings too', async () => {
    await client.query('SET standard_conforming_strings = off; SET escape_string_warning = off')
    try {
      const plain = values.filter((value) => !value.startsWith('U&')) // U&'' is refused when it is off
      await fc.assert(
        fc.asyncProperty(script([...plain, ...backslashValues]), async (text) => {
          expect(lexStatements(text, true).statements.length).toBe(await serverStatements(text))
        }),
        { numRuns: 300, seed: 20261201 },
      )
    } finally {
      await client.query('RESET standard_conforming_strings; RESET escape_string_warning')
    }
  })

  test('a backslash in a plain string: the lexer says the split depends on the setting', async () => {
    const text = `SELECT 'a\\' , ' ; SELECT 2 ; '`
    expect(lexStatements(text).dependsOnBackslash).toBe(true)
    expect(lexStatements(text).statements.length).toBe(await serverStatements(text))
    expect(lexStatements(text, true).statements.length).toBe(3)
  })
})
