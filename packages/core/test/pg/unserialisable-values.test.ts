import { createTenantPool, type TenantPool, withTenant } from '@tenantscope/core'
import { createTestDatabase, type TestDatabase, withClient } from '@tenantscope/test-harness'
import { afterAll, beforeAll, expect, test } from 'vitest'

// pg turns each parameter into text when it writes the Bind; a value whose
// conversion throws (BigInt inside an object given to JSON.stringify, a
// toPostgres that throws) must reject that one call, before anything is
// written: no second settle of the same query (an uncaught "Release called
// on client which has already been released"), no permit or statement
// counted twice, and the pool goes on serving.

let db: TestDatabase
let tenant: string
beforeAll(async () => {
  db = await createTestDatabase()
  tenant = await withClient(
    db.adminUrl,
    async (admin) => (await admin.query<{ id: string }>(`INSERT INTO tenants (name) VALUES ('a') RETURNING id`)).rows[0]!.id,
  )
})
afterAll(async () => {
  await db?.drop()
})

const unserialisable: [string, () => unknown, string | RegExp][] = [
  ['a BigInt inside an object (JSON.stringify throws)', () => ({ n: 1n }), /BigInt/],
  [
    'a toPostgres that throws',
    () => ({
      toPostgres() {
        throw new Error('boom')
      },
    }),
    'boom',
  ],
]

for (const prepareStatements of [false, true]) {
  for (const [what, value, message] of unserialisable) {
    test(`${what}: the call rejects once, counted once, and the pool goes on (prepareStatements ${prepareStatements})`, async () => {
      const pool: TenantPool = createTenantPool(
        { connectionString: db.appUrl, max: 1 },
        { prepareStatements, stats: true, fairness: { maxConnectionsPerTenant: 1 } },
      )
      const uncaught: unknown[] = []
      const onUncaught = (error: unknown) => uncaught.push(error)
      process.on('uncaughtException', onUncaught)
      try {
        const connection = (await withTenant(tenant, () => pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))).rows[0]!.pid
        await expect(withTenant(tenant, () => pool.query('SELECT $1::text AS v', [value()]))).rejects.toThrow(message)
        // Nothing was written: the connection goes back to the pool as it was.
        const after = await withTenant(tenant, () => pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))
        expect(after.rows[0]!.pid).toBe(connection)
        // The same text, now with a good value (named under prepareStatements).
        for (const v of ['ok', 'ok2']) {
          expect((await withTenant(tenant, () => pool.query('SELECT $1::text AS v', [v]))).rows).toEqual([{ v }])
        }
        const stats = pool.stats()
        expect(stats.statements?.[tenant]).toEqual({ statements: 5, errors: { client: 1 } })
        expect(stats.fairness).toMatchObject({ inUse: 0, waiting: 0 })
        expect(stats.fairness?.tenants[tenant]).toMatchObject({ held: 0, waiting: 0, admitted: 5 })
        expect(uncaught).toEqual([])
      } finally {
        process.off('uncaughtException', onUncaught)
        await pool.end()
      }
    })
  }
}

test('a connect() client: a value that cannot be serialised rejects that statement, and the transaction goes on', async () => {
  const pool = createTenantPool({ connectionString: db.appUrl, max: 1 })
  try {
    const rows = await withTenant(tenant, () =>
      pool.transaction(async (client) => {
        await expect(client.query('SELECT $1::text AS v', [{ n: 1n }])).rejects.toThrow(/BigInt/)
        return (await client.query('SELECT $1::text AS v', ['ok'])).rows
      }),
    )
    expect(rows).toEqual([{ v: 'ok' }])
  } finally {
    await pool.end()
  }
})
