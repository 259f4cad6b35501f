import { describe, expect, test } from 'vitest'
import { type Phase, type Placement, placeSetter, setterPendingAfter } from '../../src/setter-placement.js'
import { mayCallRoutine, scriptShape } from '../../src/statement-kind.js'

// The one decision of where the tenant setter goes, as a table: for each
// phase of the connection when the statement is sent, and each kind of script.
const rows: [phase: Phase, text: string, placement: Placement][] = [
  // pool.query: one statement on a fresh checkout; only a CALL or DO gets a block of its own.
  ['single', 'SELECT 1', 'before'],
  ['single', 'BEGIN ISOLATION LEVEL SERIALIZABLE', 'before'],
  ['single', 'COMMIT AND CHAIN', 'before'],
  ['single', 'CALL archive_month()', 'around'],
  ['single', '/* job */ do $$ BEGIN COMMIT; END $$', 'around'],
  ['single', 'DELETE FROM t', 'before'],
  // pool.transaction's own BEGIN carries the setter, after its modes.
  ['opening', 'BEGIN', 'before'],
  ['opening', 'BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY', 'after'],
  // A client outside a transaction.
  ['idle', 'SELECT 1', 'before'],
  ['idle', 'BEGIN', 'none'],
  ['idle', 'START TRANSACTION; SET TRANSACTION READ ONLY', 'none'],
  ['idle', 'BEGIN; SELECT 1', 'before'],
  ['idle', 'begin isolation level repeatable read', 'after'],
  ['idle', 'COMMIT AND CHAIN', 'after'],
  ['idle', 'SET TRANSACTION READ ONLY', 'before'],
  ['idle', 'CALL archive_month()', 'around'],
  ['idle', 'DO $$ BEGIN NULL; END $$', 'around'],
  ['idle', '', 'before'],
  // After a plain BEGIN that went without the setter.
  ['pending', 'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'none'],
  ['pending', 'SET TRANSACTION READ ONLY; SET TRANSACTION DEFERRABLE', 'none'],
  ['pending', 'BEGIN READ ONLY', 'none'],
  ['pending', '-- nothing', 'none'],
  ['pending', 'SELECT 1', 'before'],
  ['pending', '/* /* */ SET TRANSACTION */ SELECT 1', 'before'],
  ['pending', 'SET TRANSACTION READ ONLY; SELECT 1', 'before'],
  ['pending', 'COMMIT', 'before'],
  ['pending', 'COMMIT AND CHAIN', 'after'],
  ['pending', 'CALL archive_month()', 'before'],
  // In a transaction that has the setter, and in a failed one.
  ['scoped', 'SELECT 1', 'none'],
  ['scoped', 'SELECT 1; SELECT 2', 'none'],
  ['scoped', 'SELECT 1; COMMIT', 'none'],
  ['scoped', 'COMMIT', 'none'],
  ['scoped', 'ROLLBACK TO SAVEPOINT a; SELECT 1', 'none'],
  ['scoped', 'COMMIT AND/**/CHAIN', 'after'],
  ['scoped', 'ROLLBACK /* ; */ AND CHAIN', 'after'],
  ['scoped', 'COMMIT; SELECT 1', 'before'],
  ['scoped', 'END; BEGIN; SELECT 1', 'before'],
  ['scoped', "SELECT ';'; COMMIT; SELECT 1", 'before'],
  ['scoped', 'SELECT 1; COMMIT AND CHAIN', 'after'],
  ['scoped', 'CALL archive_month()', 'none'],
  ['failed', 'ROLLBACK', 'none'],
  ['failed', 'ROLLBACK AND CHAIN', 'after'],
  ['failed', 'ROLLBACK; SELECT 1', 'before'],
]

describe('setter placement', () => {
  test.each(rows)('%s: %j → %s', (phase, text, placement) => {
    expect(placeSetter(scriptShape(text), phase)).toBe(placement)
  })

  test('for one script the placements of all client phases are those of one wrapper', () => {
    const phases: Phase[] = ['idle', 'pending', 'scoped', 'failed']
    for (const [, text] of rows) {
      const shape = scriptShape(text)
      const placements = new Set(phases.map((phase) => placeSetter(shape, phase)))
      // ScopedBegin: after or none. ScopedBlock: around, before or none. ScopedQuery: before or none.
      if (placements.has('after')) expect([...placements].every((p) => p === 'after' || p === 'none')).toBe(true)
      expect(placements.has('after')).toBe(shape.setterAfter)
      expect(placements.has('around')).toBe(shape.mayEndTransactions && !shape.setterAfter)
    }
  })

  test('pool.query looks closer only at what may be a CALL or DO (by its first character)', () => {
    for (const text of ['CALL p()', ' call p()', '\n\tdo $$ $$', '/* c */ SELECT 1', '-- c\nSELECT 1', 'DELETE FROM t']) {
      expect(mayCallRoutine(text), text).toBe(true)
    }
    for (const text of [
      'SELECT 1',
      'insert INTO t VALUES (1)',
      '  update t SET a = 1',
      'WITH x AS (SELECT 1) SELECT * FROM x',
      '',
      undefined,
    ]) {
      expect(mayCallRoutine(text), String(text)).toBe(false)
    }
  })

  test('the setter stays pending only while the statements sent set transaction modes', () => {
    expect(setterPendingAfter('idle', 'none')).toBe(true)
    expect(setterPendingAfter('pending', 'none')).toBe(true)
    expect(setterPendingAfter('pending', 'before')).toBe(false)
    expect(setterPendingAfter('pending', 'after')).toBe(false)
    expect(setterPendingAfter('scoped', 'none')).toBe(false)
  })
})
