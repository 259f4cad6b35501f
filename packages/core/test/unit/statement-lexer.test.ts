import { describe, expect, test } from 'vitest'
import { type StatementKind, statementKinds } from '../../src/statement-kind.js'
import { lexStatements } from '../../src/statement-lexer.js'

// Each row: a spelling, and the kind of each top-level statement PostgreSQL
// reads in it. Keywords inside comments, strings, quoted identifiers and
// dollar quotes never count; `;` inside them never splits.
const rows: [text: string, kinds: StatementKind[]][] = [
  ['BEGIN', ['begin']],
  ['begin;', ['begin']],
  ['BEGIN WORK', ['begin']],
  ['BEGIN TRANSACTION;;', ['begin']],
  ['START TRANSACTION', ['begin']],
  ['START', ['other']],
  ['BEGIN ISOLATION LEVEL SERIALIZABLE', ['begin-with-modes']],
  ['begin read only', ['begin-with-modes']],
  ['BEGIN TRANSACTION READ WRITE', ['begin-with-modes']],
  ['START TRANSACTION ISOLATION LEVEL REPEATABLE READ', ['begin-with-modes']],
  ['SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', ['set-transaction']],
  ['SET LOCAL TRANSACTION READ ONLY', ['set-transaction']],
  ['SET SESSION TRANSACTION READ ONLY', ['set-transaction']],
  ["SET TRANSACTION SNAPSHOT '00000003-0000001B-1'", ['set-transaction']],
  ['SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY', ['other']],
  ["SET app.x = 'TRANSACTION'", ['other']],
  ['COMMIT', ['end']],
  ['END', ['end']],
  ['ROLLBACK WORK', ['end']],
  ['ABORT TRANSACTION', ['end']],
  ['COMMIT AND NO CHAIN', ['end']],
  ["PREPARE TRANSACTION 'tx1'", ['end']],
  ['PREPARE q AS SELECT 1', ['other']],
  ['ROLLBACK TO SAVEPOINT a', ['other']],
  ['ROLLBACK TRANSACTION TO a', ['other']],
  ["COMMIT PREPARED 'tx1'", ['other']],
  ['COMMIT AND CHAIN', ['chained-end']],
  ['commit work and chain', ['chained-end']],
  ['END TRANSACTION AND CHAIN', ['chained-end']],
  ['ROLLBACK AND CHAIN', ['chained-end']],
  ['ABORT AND CHAIN', ['chained-end']],
  // Comments: nested, and `--` ended by \n or \r.
  ['COMMIT AND/**/CHAIN', ['chained-end']],
  ['COMMIT /* ; */ AND CHAIN', ['chained-end']],
  ['COMMIT -- ;\nAND CHAIN', ['chained-end']],
  ['-- note\rROLLBACK AND CHAIN', ['chained-end']],
  ['-- note\r\nBEGIN', ['begin']],
  ['/* /* */ SET TRANSACTION */ SELECT 1', ['other']],
  ['/* a /* b */ c */ BEGIN', ['begin']],
  ['/* unterminated /* */ COMMIT', []],
  ['-- only a comment', []],
  ['COMMIT /* AND CHAIN */', ['end']],
  ['SELECT 1 -- ; COMMIT', ['other']],
  ['SELECT 1 --\r; COMMIT', ['other', 'end']],
  ['SELECT 1 */* comment ; */; COMMIT', ['other', 'end']],
  // White space, \f and \v included.
  ['\f\vBEGIN\t\n', ['begin']],
  ['BEGIN\vISOLATION LEVEL SERIALIZABLE', ['begin-with-modes']],
  // Scripts.
  ['SET TRANSACTION READ ONLY; SELECT 1', ['set-transaction', 'other']],
  ['BEGIN; SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', ['begin', 'set-transaction']],
  ['COMMIT; SELECT 1', ['end', 'other']],
  ['SELECT 1;;; SELECT 2;', ['other', 'other']],
  ['', []],
  [';', []],
  // Strings.
  ["SELECT ';'; COMMIT", ['other', 'end']],
  ["SELECT 'it''s; COMMIT'", ['other']],
  ["SELECT E'\\'; COMMIT AND CHAIN; --'", ['other']],
  ["SELECT e'\\\\'; COMMIT", ['other', 'end']],
  ["SELECT N'a;b'; COMMIT", ['other', 'end']],
  ["SELECT B'01'; COMMIT", ['other', 'end']],
  ["SELECT X'0A;'; COMMIT", ['other', 'end']],
  ["SELECT U&'d\\0061t;a'; COMMIT", ['other', 'end']],
  ["SELECT type'x;y'; COMMIT", ['other', 'end']],
  ["SELECT 'unterminated; COMMIT", ['other']],
  // Quoted identifiers.
  ['SELECT 1 AS "a;b"; COMMIT', ['other', 'end']],
  ['SELECT 1 AS "a"";b"; COMMIT', ['other', 'end']],
  ['"begin"', ['other']],
  // Dollar quotes; $1 is a parameter, `$` inside an identifier belongs to it.
  ['SELECT $$;$$; COMMIT', ['other', 'end']],
  ['SELECT $q$ $$; $q$; COMMIT', ['other', 'end']],
  ['SELECT $a$ $b$a$; COMMIT', ['other', 'end']],
  ['SELECT $a$ $xa$ ; $a$; COMMIT', ['other', 'end']],
  ['DO $body$ BEGIN COMMIT; END $body$', ['call-or-do']],
  ['CALL archive(1)', ['call-or-do']],
  ['SELECT $1; COMMIT', ['other', 'end']],
  ['SELECT a$b$c; COMMIT', ['other', 'end']],
  ['SELECT 1$$;$$', ['other']],
  ['SELECT $$ unterminated; COMMIT', ['other']],
  // A statement that starts with something other than a word.
  ['(SELECT 1); COMMIT', ['other', 'end']],
  // BEGIN ATOMIC bodies read as several statements: more splits, never fewer.
  ['CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END', ['other', 'end']],
]

describe('statement lexer', () => {
  test.each(rows)('%j', (text, kinds) => {
    expect(statementKinds(text)).toEqual(kinds)
  })

  test('keeps the first tokens of each statement, words lower-cased; one token for any other statement', () => {
    expect(lexStatements(`Commit Work AND /* x */ no CHAIN; SELECT 'a', "b"; 'x' COMMIT; set "transaction" x`).statements).toEqual([
      ['commit', 'work', 'and', 'no', 'chain'],
      ['select'],
      [''],
      ['set', '', 'x'],
    ])
  })

  test('a backslash in a plain string makes the split depend on standard_conforming_strings', () => {
    const text = "SELECT 'a\\' , ' ; COMMIT ; SELECT secret ; --'"
    // standard_conforming_strings = on (the default): one statement.
    expect(lexStatements(text).statements.length).toBe(1)
    expect(lexStatements(text).dependsOnBackslash).toBe(true)
    // off: three statements, the last two outside the string.
    expect(lexStatements(text, true).statements.map((tokens) => tokens[0])).toEqual(['select', 'commit', 'select'])
    // The readings differ: classified as a script that closes the transaction and goes on.
    expect(statementKinds(text)).toEqual(['end', 'other'])
    // A backslash that changes nothing keeps the reading.
    expect(statementKinds("SELECT 'C:\\temp'")).toEqual(['other'])
  })
})
