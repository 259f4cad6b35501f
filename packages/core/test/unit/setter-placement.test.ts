import { describe, expect, test } from 'vitest'
import { placeSetter, setterPendingAfter, type Phase, type Placement } from '../../src/setter-placement.js'
import { scriptShape } from '../../src/statement-kind.js'

// The one decision of where the tenant setter goes, as a table: for each
// phase of the connection when the statement is sent, and each kind of script.
const rows: [phase: Phase, text: string, placement: Placement][] = [
  // pool.query: one statement on a fresh checkout, never classified.
  ['single', 'SELECT 1', 'before'],
  ['single', 'BEGIN ISOLATION LEVEL SERIALIZABLE', 'before'],
  ['single', 'COMMIT AND CHAIN', 'before'],
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
  ["scoped", "SELECT ';'; COMMIT; SELECT 1", 'before'],
  ['scoped', 'SELECT 1; COMMIT AND CHAIN', 'after'],
  ['failed', 'ROLLBACK', 'none'],
  ['failed', 'ROLLBACK AND CHAIN', 'after'],
  ['failed', 'ROLLBACK; SELECT 1', 'before'],
]

describe('setter placement', () => {
  test.each(rows)('%s: %j → %s', (phase, text, placement) => {
    expect(placeSetter(scriptShape(text), phase)).toBe(placement)
  })

  test('for one script the placement is after-or-none or before-or-none in every phase (one wrapper per statement)', () => {
    const phases: Phase[] = ['opening', 'idle', 'pending', 'scoped', 'failed']
    for (const [, text] of rows) {
      const shape = scriptShape(text)
      const placements = new Set(phases.filter((phase) => phase !== 'opening').map((phase) => placeSetter(shape, phase)))
      expect(placements.has('before') && placements.has('after')).toBe(false)
      expect(placements.has('after')).toBe(shape.setterAfter)
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
