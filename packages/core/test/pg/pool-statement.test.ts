import { createTenantPool, type TenantPool, withTenant } from '@tenantscope/core'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { useFixture } from './_fixtures.js'

// pool.query's common case goes to pg as pg's own Query (pool-statement.ts),
// with no wrapper between pg and the statement; the rest goes the general
// way. Both must read only the tenant's rows and come out as pg makes them.
describe('pool.query and pool.transaction: the common case is pg’s own Query, the rest the general path', () => {
  const fixture = useFixture()
  let raw: pg.Pool
  let pool: TenantPool
  // What the last pool.query handed pg's Client.
  let ran: unknown[] = []

  beforeAll(async () => {
    await fixture.admin.query(
      `INSERT INTO projects (tenant_id, name, created_at) VALUES ($1, 'a1', '2026-01-01'), ($2, 'b1', '2026-01-02')`,
      [fixture.tenantA, fixture.tenantB],
    )
    raw = new pg.Pool({ connectionString: fixture.db.appUrl, max: 1 })
    raw.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown
      client.query = ((config: unknown, ...rest: unknown[]) => {
        ran.push(config)
        return query(config, ...rest)
      }) as typeof client.query
    })
    pool = createTenantPool(raw)
  })
  afterAll(() => raw?.end())

  const run = async (query: () => Promise<pg.QueryResult>) => {
    ran = []
    const result = await withTenant(fixture.tenantA, query)
    return { result, statement: ran.at(-1) }
  }

  test('text with plain values: pg runs its own Query, and reads the tenant’s rows only', async () => {
    for (const values of [undefined, [], ['a1'], [1]]) {
      const text = values?.length
        ? typeof values[0] === 'string'
          ? 'SELECT name FROM projects WHERE name = $1'
          : 'SELECT name FROM projects LIMIT $1'
        : 'SELECT name FROM projects'
      const { result, statement } = await run(() => pool.query(text, values))
      expect(statement).toBeInstanceOf(pg.Query)
      expect(result.rows).toEqual([{ name: 'a1' }])
      expect(result.command).toBe('SELECT')
    }
  })

  test('a config object, a value that pg converts (a Date), and a CALL or DO go the general way, and still read the tenant’s rows only', async () => {
    const general = [
      () => pool.query({ text: 'SELECT name FROM projects', rowMode: 'array' }),
      () => pool.query('SELECT name FROM projects WHERE created_at < $1', [new Date('2026-06-01')]),
      () => pool.query(`DO $$ BEGIN PERFORM 1; END $$`),
    ]
    const results = []
    for (const query of general) {
      const { result, statement } = await run(query)
      expect(statement).not.toBeInstanceOf(pg.Query)
      results.push(result.rows)
    }
    expect(results).toEqual([[['a1']], [{ name: 'a1' }], []])
  })

  test('pool.transaction: its plain BEGIN, its statements and its COMMIT are that same class, one for every statement', async () => {
    ran = []
    const names = await withTenant(fixture.tenantA, () =>
      pool.transaction(async (client) => (await client.query('SELECT name FROM projects')).rows.map((row) => row.name)),
    )
    expect(names).toEqual(['a1'])
    expect(ran).toHaveLength(3)
    for (const statement of ran) expect(statement).toBeInstanceOf(pg.Query)
    expect(new Set(ran.map((statement) => (statement as object).constructor)).size).toBe(1)
    const transactionClass = (ran[0] as object).constructor
    await run(() => pool.query('SELECT 1'))
    expect((ran[0] as object).constructor).toBe(transactionClass)
  })

  test('a database error comes back as pg’s, and the connection serves the next statement', async () => {
    const failed = await run(() => pool.query('SELECT 1/0')).catch((error: unknown) => error)
    expect(failed).toMatchObject({ code: '22012' })
    const { result } = await run(() => pool.query('SELECT name FROM projects'))
    expect(result.rows).toEqual([{ name: 'a1' }])
  })
})
