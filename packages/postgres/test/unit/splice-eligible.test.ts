import { describe, expect, test } from 'vitest'
import { spliceEligible } from '../../src/splice-eligible.js'

describe('spliceEligible', () => {
  test('plain data statements are spliced', () => {
    for (const text of [
      'SELECT 1',
      ' select\n1',
      'INSERT INTO t VALUES (1)',
      'update t set a = 1',
      'DELETE FROM t',
      'WITH x AS (SELECT 1) SELECT * FROM x',
      'VALUES (1)',
      'TABLE t',
      'MERGE INTO t USING s ON true WHEN MATCHED THEN DO NOTHING',
      'SELECT',
    ]) {
      expect({ text, eligible: spliceEligible([text]) }).toEqual({ text, eligible: true })
    }
  })

  test('anything that may control the transaction, or is not surely a data statement, is not', () => {
    for (const text of [
      'BEGIN',
      'begin isolation level serializable',
      'START TRANSACTION',
      'COMMIT',
      'END',
      'ROLLBACK',
      'ABORT',
      'SAVEPOINT s',
      'RELEASE s',
      'PREPARE TRANSACTION $$x$$',
      'COMMIT PREPARED $$x$$',
      'SET app.x = 1',
      'SET TRANSACTION READ ONLY',
      'CALL p()',
      'DO $$ BEGIN END $$',
      '/* c */ SELECT 1',
      '-- c\nSELECT 1',
      '(SELECT 1)',
      'selectx',
      'select_1',
      '',
      '   ',
    ]) {
      expect({ text, eligible: spliceEligible([text]) }).toEqual({ text, eligible: false })
    }
    expect(spliceEligible([])).toBe(false)
  })
})
