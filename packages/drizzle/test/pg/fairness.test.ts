import { createTenantPool, type TenantPool, withTenant } from '@tenantscope/core'
import { tenantDrizzle } from '@tenantscope/drizzle'
import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createFixture, type Fixture } from '../fixtures/database.js'
import * as schema from '../fixtures/schema.js'

// The pool's fair queue applies to Drizzle's queries and transactions too:
// they go through the TenantPool's query() and connect().
describe('fairness through Drizzle', () => {
  let f: Fixture
  let pool: TenantPool
  let db: ReturnType<typeof tenantDrizzle<ReturnType<typeof drizzle<typeof schema>>>>
  beforeAll(async () => {
    f = await createFixture()
    pool = createTenantPool({ connectionString: f.db.appUrl, max: 2 }, { fairness: { maxConnectionsPerTenant: 1 }, stats: true })
    db = tenantDrizzle(drizzle(pool, { schema }))
  })
  afterAll(async () => {
    await pool?.end()
    await f?.end()
  })

  test('a tenant at its cap waits, in queries and transactions alike, while another tenant gets the free connection', async () => {
    const gate = await f.admin.connect()
    await gate.query('SELECT pg_advisory_lock(5)')
    try {
      const first = withTenant(f.A, () => db.execute(sql`SELECT pg_advisory_lock_shared(5), pg_advisory_unlock_shared(5)`))
      await expect.poll(() => pool.stats().fairness?.tenants[f.A]?.held).toBe(1)
      const second = withTenant(f.A, () => db.transaction((tx) => tx.select().from(schema.projects)))
      await expect.poll(() => pool.stats().fairness?.tenants[f.A]?.waiting).toBe(1)
      const other = await withTenant(f.B, () => db.select().from(schema.projects))
      expect(other.map((row) => row.name)).toEqual(['b-project'])
      expect(pool.stats().fairness?.tenants[f.A]).toMatchObject({ held: 1, waiting: 1 })
      await gate.query('SELECT pg_advisory_unlock(5)')
      await first
      expect((await second).map((row) => row.name)).toEqual(['a-project'])
    } finally {
      gate.release()
    }
    expect(pool.stats().fairness?.tenants[f.A]).toMatchObject({ held: 0, waiting: 0, admitted: 2 })
  })
})
