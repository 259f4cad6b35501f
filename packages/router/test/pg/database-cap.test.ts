import { randomUUID } from 'node:crypto'
import { withTenant } from '@tenantscope/core'
import { createTenantDirectory, createTenantRouter, type TenantEntry } from '@tenantscope/router'
import { createTestDatabase, type TestDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { insertTenants } from './_fixtures.js'

describe('database tenants: lazily opened pools under one connection cap', () => {
  const tenants = Array.from({ length: 4 }, () => randomUUID())
  let dbs: TestDatabase[]
  let admin: pg.Pool
  const entries = new Map<string, TenantEntry>()
  const directory = createTenantDirectory((id) => entries.get(id))
  const resolved: string[] = []

  beforeAll(async () => {
    dbs = await Promise.all(tenants.map(() => createTestDatabase()))
    await Promise.all(tenants.map((id, i) => insertTenants(dbs[i]!.adminUrl, [id])))
    tenants.forEach((id, i) => entries.set(id, { tenantId: id, strategy: 'database', database: String(i), state: 'active' }))
    admin = new pg.Pool({ connectionString: dbs[0]!.adminUrl, max: 1 })
  })
  afterAll(async () => {
    await admin?.end()
    await Promise.all((dbs ?? []).map((db) => db.drop()))
  })

  const connectionFor = (entry: TenantEntry) => {
    resolved.push(entry.database!)
    return { connectionString: dbs[Number(entry.database)]!.appUrl }
  }
  const openConnections = async () =>
    (
      await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ANY($1) AND usename = 'tenantscope_test_app'`, [
        dbs.map((db) => db.name),
      ])
    ).rows[0].n as number

  test('load over every tenant never opens more connections than the cap, and each tenant reaches its own database', async () => {
    const router = createTenantRouter({
      directory,
      pool: { connectionString: dbs[0]!.appUrl, max: 1 },
      databases: { connectionFor, maxConnections: 2, idleMillis: 60_000 },
    })
    try {
      let peak = 0
      let seen = 0
      const sampler = (async () => {
        while (seen >= 0) {
          peak = Math.max(peak, await openConnections(), router.databaseConnections)
          await new Promise((resolve) => setImmediate(resolve))
          if (seen < 0) break
        }
      })()
      const results = await Promise.all(
        Array.from({ length: 80 }, (_, i) => {
          const tenant = tenants[i % tenants.length]!
          return withTenant(tenant, async () => {
            const { rows } = await router.query(`SELECT current_database() AS db, pg_sleep(0.002)::text, count(*)::int AS n FROM tenants`)
            return [tenant, rows[0].db, rows[0].n] as const
          })
        }),
      )
      seen = -1
      await sampler
      for (const [tenant, database, visible] of results) {
        expect(database).toBe(dbs[tenants.indexOf(tenant)]!.name)
        expect(visible).toBe(1)
      }
      expect(router.databaseConnections).toBeLessThanOrEqual(2)
      expect(peak).toBeGreaterThan(0)
      expect(peak).toBeLessThanOrEqual(2)
    } finally {
      await router.end()
    }
    await expect.poll(openConnections).toBe(0)
  })

  test('reaching the cap with every pool busy fails with TENANT_POOL_EXHAUSTED instead of hanging', async () => {
    const router = createTenantRouter({
      directory,
      pool: { connectionString: dbs[0]!.appUrl, max: 1 },
      databases: { connectionFor, maxConnections: 1, acquireTimeoutMillis: 200 },
    })
    try {
      const held = await withTenant(tenants[0]!, () => router.connect())
      try {
        await expect(withTenant(tenants[1]!, () => router.query(`SELECT 1`))).rejects.toMatchObject({ code: 'TENANT_POOL_EXHAUSTED' })
      } finally {
        held.release()
      }
      // Released: the idle pool is closed for the next tenant in line.
      const { rows } = await withTenant(tenants[1]!, () => router.query(`SELECT current_database() AS db`))
      expect(rows[0].db).toBe(dbs[1]!.name)
    } finally {
      await router.end()
    }
  })

  test('a resolver that fails gives its slot back and the error to the caller', async () => {
    const broken = randomUUID()
    entries.set(broken, { tenantId: broken, strategy: 'database', database: 'nowhere', state: 'active' })
    const router = createTenantRouter({
      directory,
      pool: { connectionString: dbs[0]!.appUrl, max: 1 },
      databases: {
        connectionFor: (entry) => (entry.database === 'nowhere' ? Promise.reject(new Error('no credentials')) : connectionFor(entry)),
        maxConnections: 1,
        acquireTimeoutMillis: 1_000,
      },
    })
    try {
      await expect(withTenant(broken, () => router.query(`SELECT 1`))).rejects.toThrow('no credentials')
      expect(router.databaseConnections).toBe(0)
      // The one slot is free for the next tenant.
      await withTenant(tenants[0]!, () => router.query(`SELECT 1`))
    } finally {
      await router.end()
    }
  })

  test('credentials come from connectionFor each time a pool opens', async () => {
    resolved.length = 0
    const router = createTenantRouter({
      directory,
      pool: { connectionString: dbs[0]!.appUrl, max: 1 },
      databases: { connectionFor, maxConnections: 1, idleMillis: 60_000 },
    })
    try {
      await withTenant(tenants[2]!, () => router.query(`SELECT 1`))
      await withTenant(tenants[2]!, () => router.query(`SELECT 1`))
      expect(resolved).toEqual(['2'])
      await withTenant(tenants[3]!, () => router.query(`SELECT 1`)) // evicts 2
      await withTenant(tenants[2]!, () => router.query(`SELECT 1`))
      expect(resolved).toEqual(['2', '3', '2'])
    } finally {
      await router.end()
    }
  })
})
