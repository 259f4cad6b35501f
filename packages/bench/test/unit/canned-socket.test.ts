import { createTenantPool, withTenant } from '@tenantscope/core'
import pg from 'pg'
import { afterEach, describe, expect, test } from 'vitest'
import { CannedSocket } from '../../src/canned-socket.js'
import { INSTRUCTION_MODES, INSTRUCTION_WORKLOADS, runCanned } from '../../src/instructions-child.js'

// bench:instructions counts the client path against this socket: pg must
// read its replies as a server's, with the rows the statement asked for.
const POINT = 'SELECT id, name, owner_id, created_at FROM projects WHERE id = $1'
const TOP10 = 'SELECT id, name, created_at FROM projects ORDER BY created_at DESC LIMIT 10'
const pools: pg.Pool[] = []
const cannedPool = () => {
  const pool = new pg.Pool({ stream: () => new CannedSocket(), max: 2 } as pg.PoolConfig)
  pools.push(pool)
  return pool
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.end()))
})

describe('CannedSocket', () => {
  test('answers a statement with its own columns, its LIMIT in rows, created_at parsed as a date', async () => {
    const pool = cannedPool()
    const top10 = await pool.query(TOP10)
    expect(top10.fields.map((field) => field.name)).toEqual(['id', 'name', 'created_at'])
    expect(top10.rowCount).toBe(10)
    expect(top10.rows[0].created_at).toBeInstanceOf(Date)
    const point = await pool.query(POINT, ['0b7c2f2e-0001-4000-8000-000000000001'])
    expect(point.fields.map((field) => field.name)).toEqual(['id', 'name', 'owner_id', 'created_at'])
    expect(point.rowCount).toBe(1)
  })

  test('completes a statement that is not a SELECT with its tag and no rows', async () => {
    const client = await cannedPool().connect()
    try {
      const begin = await client.query('BEGIN')
      expect([begin.command, begin.rowCount, begin.fields]).toEqual(['BEGIN', null, []])
      const extended = await client.query({ text: 'COMMIT', queryMode: 'extended' } as pg.QueryConfig)
      expect([extended.command, extended.fields]).toEqual(['COMMIT', []])
    } finally {
      client.release()
    }
  })

  test("reports a transaction as a server does: 'T' from BEGIN to COMMIT or ROLLBACK, 'I' outside", async () => {
    const client = await cannedPool().connect()
    const status = () => (client as unknown as { getTransactionStatus(): string }).getTransactionStatus()
    try {
      await client.query('BEGIN')
      expect(status()).toBe('T')
      await client.query(POINT, ['0b7c2f2e-0001-4000-8000-000000000001'])
      expect(status()).toBe('T')
      await client.query({ text: 'COMMIT', queryMode: 'extended' } as pg.QueryConfig)
      expect(status()).toBe('I')
      await client.query('BEGIN')
      await client.query('ROLLBACK')
      expect(status()).toBe('I')
    } finally {
      client.release()
    }
  })

  test("gives tenantscope's pipeline the statement's rows, the setter's reply apart", async () => {
    const tenantPool = createTenantPool(cannedPool())
    const result = await withTenant('0b7c2f2e-0000-4000-8000-000000000001', () => tenantPool.query(TOP10))
    expect(result.fields.map((field) => field.name)).toEqual(['id', 'name', 'created_at'])
    expect(result.rowCount).toBe(10)
  })

  test.each(INSTRUCTION_MODES.flatMap((mode) => INSTRUCTION_WORKLOADS.map((workload) => [mode, workload])))(
    'runs %s on %s, as bench:instructions does',
    async (mode, workload) => {
      await expect(runCanned(mode, workload, 20, 20)).resolves.toBeUndefined()
    },
  )
})
