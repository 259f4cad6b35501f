// The pg version matrix: the lowest pg the peer range admits, one in the
// middle, and the latest 8.x (the dev dependency), each through the isolation
// contract and through what reads pg's private API (_pg-internals.ts): the
// statement queue, named statements, transaction status, BEGIN with modes,
// chained ends. The TenantPool wraps each version's own pg.Pool, so the
// connections and the Query class are that version's.
import { createRequire } from 'node:module'
import { createTenantPool, withTenant } from '@tenantscope/core'
import { type ContractAdapter, describeTenantContract } from '@tenantscope/test-harness'
import pg from 'pg'
import pg812 from 'pg-8-12'
import pg816 from 'pg-8-16'
import { describe, expect, test } from 'vitest'
import { useFixture } from './_fixtures.js'

const require = createRequire(import.meta.url)
const versionOf = (name: string): string => (require(`${name}/package.json`) as { version: string }).version

const versions = [
  { name: 'pg-8-12', pg: pg812, expected: '8.12.0' },
  { name: 'pg-8-16', pg: pg816, expected: '8.16.3' },
  { name: 'pg', pg, expected: versionOf('pg') },
]

type Queryable = { query(text: string, values?: unknown[]): Promise<pg.QueryResult> }

function adapterOver(db: Queryable, transaction: ContractAdapter['transaction']): ContractAdapter {
  return {
    insertProject: async (name) => void (await db.query('INSERT INTO projects (name) VALUES ($1)', [name])),
    insertProjectFor: async (tenantId, name) =>
      void (await db.query('INSERT INTO projects (tenant_id, name) VALUES ($1, $2)', [tenantId, name])),
    listProjects: async () => (await db.query('SELECT tenant_id, name FROM projects ORDER BY created_at, name')).rows,
    renameProjects: async (name) => (await db.query('UPDATE projects SET name = $1', [name])).rowCount ?? 0,
    moveProjectsTo: async (tenantId) => (await db.query('UPDATE projects SET tenant_id = $1', [tenantId])).rowCount ?? 0,
    deleteProjects: async () => (await db.query('DELETE FROM projects')).rowCount ?? 0,
    failingStatement: () => db.query('SELECT 1 / 0'),
    transaction,
  }
}

for (const { name, pg: versioned, expected } of versions) {
  const version = versionOf(name)

  describeTenantContract(`TenantPool over pg ${version}`, (config) => {
    const rawPool = new versioned.Pool(config)
    const pool = createTenantPool(rawPool)
    const adapter = adapterOver(pool, (fn) =>
      pool.transaction((client) => fn(adapterOver(client, () => Promise.reject(new Error('no nested transactions'))))),
    )
    return { adapter, rawPool, end: () => pool.end() }
  })

  describe(`pg ${version}: what reads pg's private API`, () => {
    const f = useFixture()

    test(`is ${expected}, and the TenantPool runs on its own connections`, async () => {
      expect(version).toBe(expected)
      const pool = createTenantPool(new versioned.Pool({ connectionString: f.db.appUrl, max: 1 }))
      try {
        const raw = await pool.unscopedPool.connect()
        expect(raw).toBeInstanceOf(versioned.Client)
        if (versioned !== pg) expect(raw).not.toBeInstanceOf(pg.Client)
        raw.release()
        expect((await withTenant(f.tenantA, () => pool.query('SELECT id FROM tenants'))).rows).toEqual([{ id: f.tenantA }])
      } finally {
        await pool.end()
      }
    })

    test('clients: plain BEGIN then SET TRANSACTION, BEGIN with modes, COMMIT AND CHAIN, named statements', async () => {
      const pool = createTenantPool(new versioned.Pool({ connectionString: f.db.appUrl, max: 1 }))
      const probe = `SELECT current_setting('app.current_tenant', true) AS t, current_setting('transaction_isolation') AS iso`
      try {
        await withTenant(f.tenantB, async () => {
          const client = await pool.connect()
          try {
            await client.query('BEGIN')
            await client.query('SET TRANSACTION ISOLATION LEVEL SERIALIZABLE')
            expect((await client.query(probe)).rows).toEqual([{ t: f.tenantB, iso: 'serializable' }])
            await client.query('COMMIT AND CHAIN')
            expect((await client.query(probe)).rows).toEqual([{ t: f.tenantB, iso: 'serializable' }])
            await client.query('COMMIT')
            await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ')
            expect((await client.query(probe)).rows).toEqual([{ t: f.tenantB, iso: 'repeatable read' }])
            await client.query('ROLLBACK')
            // A named statement, parsed once and then run by name, outside a transaction.
            const named = { name: 'visible_tenants', text: 'SELECT id FROM tenants' }
            expect((await client.query(named)).rows).toEqual([{ id: f.tenantB }])
            expect((await client.query(named)).rows).toEqual([{ id: f.tenantB }])
          } finally {
            client.release()
          }
        })
        // The prepared setter of pool.query, on the same connection again and again.
        for (let i = 0; i < 3; i++) {
          expect((await withTenant(f.tenantA, () => pool.query('SELECT id FROM tenants'))).rows).toEqual([{ id: f.tenantA }])
        }
      } finally {
        await pool.end()
      }
    })

    test('a config object inside a transaction is left as it was: shared with a plain client, or frozen', async () => {
      const pool = createTenantPool(new versioned.Pool({ connectionString: f.db.appUrl, max: 1 }))
      const plain = new versioned.Client({ connectionString: f.db.appUrl })
      try {
        const shared: pg.QueryConfig = { text: 'SELECT 1 AS one' }
        const withValues: pg.QueryConfig = { text: 'SELECT $1::int AS one' }
        const frozen = Object.freeze({ text: 'SELECT $1::int AS one', values: [1] })
        const rows = await withTenant(f.tenantA, () =>
          pool.transaction(async (client) => [
            (await client.query(shared)).rows,
            (await client.query(withValues, [1])).rows,
            (await client.query(frozen)).rows,
          ]),
        )
        expect(rows).toEqual([[{ one: 1 }], [{ one: 1 }], [{ one: 1 }]])
        expect(Object.keys(shared)).toEqual(['text'])
        expect(Object.keys(withValues)).toEqual(['text'])
        // pg 8.12 and 8.16 return no promise for a config that carries a callback.
        await plain.connect()
        expect((await plain.query(shared))?.rows).toEqual([{ one: 1 }])
      } finally {
        await plain.end()
        await pool.end()
      }
    })

    test('a value whose conversion throws inside a transaction rejects, and the transaction goes on', async () => {
      const pool = createTenantPool(new versioned.Pool({ connectionString: f.db.appUrl, max: 1 }))
      let outcome: unknown
      try {
        const run = withTenant(f.tenantA, () =>
          pool.transaction(async (client) => {
            await expect(client.query('SELECT $1::text AS v', [{ n: 1n }])).rejects.toThrow(/BigInt/)
            await expect(client.query({ text: 'SELECT $1::text AS v', values: [{ n: 1n }] })).rejects.toThrow(/BigInt/)
            return (await client.query('SELECT $1::text AS v', ['ok'])).rows
          }),
        )
        // A hang is the failure here: pg 8.12 and 8.16 send no Sync after the Parse.
        const hung = new Promise((resolve) => setTimeout(() => resolve('HUNG'), 2000))
        outcome = await Promise.race([run, hung])
        expect(outcome).toEqual([{ v: 'ok' }])
      } finally {
        // A hung transaction keeps its connection: ending the pool would wait for it.
        if (outcome !== 'HUNG') await pool.end()
      }
    })

    test('a client released with a statement still queued is destroyed, not handed on', async () => {
      const pool = createTenantPool(new versioned.Pool({ connectionString: f.db.appUrl, max: 1 }))
      try {
        const pid = await withTenant(f.tenantA, async () => {
          const client = await pool.connect()
          const { rows } = await client.query('SELECT pg_backend_pid() AS pid')
          const slow = client.query('SELECT pg_sleep(0.2)').catch((error: unknown) => error)
          client.release()
          await slow
          return rows[0].pid as number
        })
        const { rows } = await pool.unscopedPool.query('SELECT pg_backend_pid() AS pid')
        expect(rows[0].pid).not.toBe(pid)
      } finally {
        await pool.end()
      }
    })
  })
}
