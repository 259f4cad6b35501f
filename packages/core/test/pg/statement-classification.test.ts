// Where the setter goes depends on what a statement is (BEGIN, SET
// TRANSACTION, COMMIT AND CHAIN, a script). Each row below is a spelling that
// PostgreSQL reads differently from a regular expression. App SQL has left a
// session-level tenant (B) on the pool's only connection, so a statement that
// goes out without the setter sees B instead of failing closed: no row may
// ever see B.
import { createTenantPool, type TenantPool, type TenantScopeError, withTenant } from '@tenantscope/core'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { useFixture } from './_fixtures.js'

const PROBE = `SELECT current_setting('app.current_tenant', true) AS seen`

interface Row {
  name: string
  /**
   * Sent one by one on a client from pool.connect(); the last result's first
   * row is read. A step starting with '!' is expected to fail (its error is caught).
   */
  steps: string[]
  /** 'A': the last statement ran for tenant A; 'refused': a step was refused (nothing ran without the setter). */
  expected: 'A' | 'refused'
}

const rows: Row[] = [
  // Setter pending after a plain BEGIN: the transaction's first real statement must carry it.
  { name: 'nested block comment hiding a SET TRANSACTION', steps: ['BEGIN', `/* /* */ SET TRANSACTION */ ${PROBE}`], expected: 'A' },
  {
    name: 'a -- comment ended by \\r, then a script whose last statement is SET TRANSACTION',
    steps: ['BEGIN', `-- note\r${PROBE}; -- \nSET TRANSACTION READ WRITE`],
    expected: 'refused',
  },
  {
    name: 'SET TRANSACTION ...; SELECT ... after BEGIN',
    steps: ['BEGIN', `SET TRANSACTION ISOLATION LEVEL READ COMMITTED; ${PROBE}`],
    expected: 'refused',
  },
  {
    name: 'START TRANSACTION and SET TRANSACTION in one script, then a statement',
    steps: ['START TRANSACTION; SET TRANSACTION ISOLATION LEVEL REPEATABLE READ', PROBE],
    expected: 'A',
  },
  // Chained transaction ends: the new transaction starts without the setting.
  { name: 'COMMIT AND/**/CHAIN', steps: ['BEGIN', 'SELECT 1', 'COMMIT AND/**/CHAIN', PROBE], expected: 'A' },
  {
    name: 'COMMIT /* ; */ AND CHAIN (a semicolon inside a comment)',
    steps: ['BEGIN', 'SELECT 1', 'COMMIT /* ; */ AND CHAIN', PROBE],
    expected: 'A',
  },
  {
    name: 'a -- comment ended by \\r before ROLLBACK AND CHAIN',
    steps: ['BEGIN', 'SELECT 1', '-- note\rROLLBACK AND CHAIN', PROBE],
    expected: 'A',
  },
  {
    name: 'COMMIT WORK AND CHAIN in a BEGIN ISOLATION LEVEL transaction',
    steps: ['BEGIN ISOLATION LEVEL SERIALIZABLE', 'COMMIT WORK AND CHAIN', PROBE],
    expected: 'A',
  },
  {
    name: 'ROLLBACK AND CHAIN in a failed transaction',
    steps: ['BEGIN', 'SELECT 1', '!SELECT 1 / 0', 'ROLLBACK AND CHAIN', PROBE],
    expected: 'A',
  },
  // Modes in a BEGIN must come before the setter; a comment ended by \r hid them from a regex.
  {
    name: 'a -- comment ended by \r before BEGIN ISOLATION LEVEL',
    steps: ['-- note\rBEGIN ISOLATION LEVEL SERIALIZABLE', PROBE],
    expected: 'A',
  },
  // A script that ends the transaction and goes on runs its rest outside it.
  { name: 'COMMIT; SELECT ... inside a transaction', steps: ['BEGIN', 'SELECT 1', `COMMIT; ${PROBE}`], expected: 'refused' },
  { name: 'END; BEGIN; SELECT ... inside a transaction', steps: ['BEGIN', 'SELECT 1', `END; BEGIN; ${PROBE}`], expected: 'refused' },
  {
    name: 'ROLLBACK; SELECT ... in a failed transaction',
    steps: ['BEGIN', 'SELECT 1', '!SELECT 1 / 0', `ROLLBACK; ${PROBE}`],
    expected: 'refused',
  },
  {
    name: "COMMIT hidden from a regex by a string: SELECT ';'; COMMIT; SELECT",
    steps: ['BEGIN', 'SELECT 1', `SELECT ';'; COMMIT; ${PROBE}`],
    expected: 'refused',
  },
  // Outside a transaction a script never runs without the setter.
  { name: 'BEGIN; SELECT ... outside a transaction', steps: [`BEGIN; ${PROBE}`], expected: 'refused' },
  // Keywords inside strings and comments do not count.
  {
    name: "a chain keyword in a string: SELECT 'COMMIT AND CHAIN' after BEGIN",
    steps: ['BEGIN', `SELECT 'COMMIT AND CHAIN' AS x`, PROBE],
    expected: 'A',
  },
  {
    name: 'a dollar-quoted body with a semicolon after BEGIN',
    steps: ['BEGIN', `SELECT $q$; COMMIT$q$ AS x`, 'SELECT 2', PROBE],
    expected: 'A',
  },
]

describe('statement classification: no statement runs without the setter', () => {
  const f = useFixture()
  let raw: pg.Pool
  let pool: TenantPool

  beforeAll(() => {
    raw = new pg.Pool({ connectionString: f.db.appUrl, max: 1 })
    pool = createTenantPool(raw)
  })
  afterAll(() => pool?.end())

  async function run(steps: string[]): Promise<string | TenantScopeError | Error> {
    // App SQL left tenant B at session level on the only connection.
    await raw.query(`SELECT set_config('app.current_tenant', $1, false)`, [f.tenantB])
    return withTenant(f.tenantA, async () => {
      const client = await pool.connect()
      try {
        let last: pg.QueryResult | pg.QueryResult[] | undefined
        for (const step of steps) {
          if (step.startsWith('!')) await client.query(step.slice(1)).catch(() => undefined)
          else last = (await client.query(step)) as pg.QueryResult | pg.QueryResult[]
        }
        const result = Array.isArray(last) ? last[last.length - 1]! : last!
        return result.rows[0].seen as string
      } catch (error) {
        return error as Error
      } finally {
        client.release()
      }
    })
  }

  test.each(rows)('$name', async ({ steps, expected }) => {
    const outcome = await run(steps)
    expect(outcome).not.toBe(f.tenantB)
    if (expected === 'A') expect(outcome).toBe(f.tenantA)
    else expect(outcome).toBeInstanceOf(Error)
  })
})
