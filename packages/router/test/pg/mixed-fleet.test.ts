import { randomUUID } from 'node:crypto'
import { withTenant } from '@tenantscope/core'
import { createTenantDirectory, createTenantRouter, type TenantEntry, type TenantRouter } from '@tenantscope/router'
import { createTestDatabase, type TestDatabase } from '@tenantscope/test-harness'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { dropRoles, insertTenants, makeSchemaTenant, rolePrefix } from './_fixtures.js'

// The concurrency property over a fleet that mixes every kind under one
// router, on small pools: whatever the interleaving, a tenant only ever sees
// and writes its own rows.
describe('a mixed fleet under one router', () => {
  const prefix = rolePrefix()
  const pool = Array.from({ length: 4 }, () => randomUUID())
  const schema = Array.from({ length: 4 }, () => randomUUID())
  const database = Array.from({ length: 2 }, () => randomUUID())
  const all = [...pool, ...schema, ...database]
  let primary: TestDatabase
  let tenantDbs: TestDatabase[]
  let router: TenantRouter
  const entries = new Map<string, TenantEntry>()

  beforeAll(async () => {
    ;[primary, ...tenantDbs] = await Promise.all([createTestDatabase(), createTestDatabase(), createTestDatabase()])
    await insertTenants(primary.adminUrl, pool)
    await Promise.all(database.map((id, i) => insertTenants(tenantDbs[i]!.adminUrl, [id])))
    for (const [i, id] of schema.entries()) {
      await makeSchemaTenant(primary.adminUrl, `${prefix}gate`, `tenant_m${i}`, `${prefix}m${i}`)
      entries.set(id, { tenantId: id, strategy: 'schema', schema: `tenant_m${i}`, role: `${prefix}m${i}`, state: 'active' })
    }
    for (const id of pool) entries.set(id, { tenantId: id, strategy: 'pool', state: 'active' })
    database.forEach((id, i) => entries.set(id, { tenantId: id, strategy: 'database', database: String(i), state: 'active' }))
    router = createTenantRouter({
      directory: createTenantDirectory((id) => entries.get(id)),
      pool: { connectionString: primary.appUrl, max: 2 },
      databases: { connectionFor: (entry) => tenantDbs[Number(entry.database)]!.appUrl, maxConnections: 1, acquireTimeoutMillis: 30_000 },
    })
  })
  afterAll(async () => {
    await router?.end()
    await Promise.all([primary, ...(tenantDbs ?? [])].map((db) => db?.drop()))
    await dropRoles(primary.adminUrl, prefix)
  })

  test('300 concurrent tasks over 10 tenants of three kinds never see or write another tenant’s rows', async () => {
    const task = async (i: number) => {
      const tenant = all[(i * 7) % all.length]!
      return withTenant(tenant, async () => {
        if (i % 3 === 0) {
          return router.transaction(async (tx) => {
            await tx.query(`INSERT INTO projects (name) VALUES ($1)`, [tenant])
            return { tenant, names: (await tx.query<{ name: string }>(`SELECT name FROM projects`)).rows.map((r) => r.name) }
          })
        }
        await router.query(`INSERT INTO projects (name) VALUES ($1)`, [tenant])
        return { tenant, names: (await router.query<{ name: string }>(`SELECT name FROM projects`)).rows.map((r) => r.name) }
      })
    }
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => task(i)))
    for (const { tenant, names } of results) {
      expect(names.length).toBeGreaterThan(0)
      expect(names.every((name) => name === tenant)).toBe(true)
    }
    // Every write landed where its tenant lives, and all of them did.
    const counts = await Promise.all(
      all.map((tenant) => withTenant(tenant, async () => (await router.query(`SELECT count(*)::int AS n FROM projects`)).rows[0].n)),
    )
    expect(counts.reduce((a, b) => a + b, 0)).toBe(300)
  })
})
