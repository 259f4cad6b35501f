import { expect, test } from 'vitest'
import { PreparedStatements } from '../../src/prepared-statements.js'

// Which statements prepareStatements names, and which failures it retries.

test('SELECT ... INTO creates a table: never named, like other DDL; a plain SELECT and an INSERT ... INTO are', () => {
  const statements = new PreparedStatements(10)
  expect(statements.nameOf('SELECT name INTO TEMP copied FROM projects')).toBeUndefined()
  expect(statements.nameOf('WITH p AS (SELECT name FROM projects) SELECT name INTO copied FROM p')).toBeUndefined()
  expect(statements.nameOf('SELECT name FROM projects')).toMatch(/^tenantscope_s_/)
  expect(statements.nameOf(`INSERT INTO projects (name) VALUES ('x')`)).toMatch(/^tenantscope_s_/)
})

test('a failure is retried only when the prepared-statement machinery raised it (its routine), not the statement while it ran', () => {
  const statements = new PreparedStatements(10)
  expect(statements.retryable({ code: '26000', routine: 'FetchPreparedStatement' })).toBe(true)
  expect(statements.retryable({ code: '42P05', routine: 'StorePreparedStatement' })).toBe(true)
  expect(statements.retryable({ code: '0A000', routine: 'RevalidateCachedQuery' })).toBe(true)
  // feature_not_supported raised by a function (plpgsql's RAISE) while the statement executes.
  expect(statements.retryable({ code: '0A000', routine: 'exec_stmt_raise' })).toBe(false)
  expect(statements.retryable({ code: '0A000' })).toBe(false)
  expect(statements.retryable({ code: '23505', routine: 'FetchPreparedStatement' })).toBe(false)
})
