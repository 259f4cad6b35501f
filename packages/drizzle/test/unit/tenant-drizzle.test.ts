import { TenantPool, TenantScopeError, withTenant } from '@tenantscope/core'
import { createTenantDrizzle, tenantDrizzle } from '@tenantscope/drizzle'
import { sql } from 'drizzle-orm'
import { Cache } from 'drizzle-orm/cache/core'
import { drizzle } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { afterAll, describe, expect, test } from 'vitest'
import * as schema from '../fixtures/schema.js'

// Nothing listens on port 1: a query that reached for a connection would
// fail with ECONNREFUSED, not with tenantscope's refusal.
const unreachable = 'postgres://nobody@127.0.0.1:1/none'
const pools: pg.Pool[] = []
function pool() {
  const created = new pg.Pool({ connectionString: unreachable, connectionTimeoutMillis: 500 })
  pools.push(created)
  return created
}
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()))
})

class EveryQueryCache extends Cache {
  strategy() {
    return 'all' as const
  }
  async get() {
    return undefined
  }
  async put() {}
  async onMutate() {}
}

const invalidConfig = (error: unknown) => TenantScopeError.is(error, 'INVALID_CONFIG')

describe('tenantDrizzle', () => {
  test('returns a new instance over a TenantPool that wraps the original pool; the original is untouched', () => {
    const raw = pool()
    const db = drizzle(raw, { schema })
    const scoped = tenantDrizzle(db)
    expect(scoped).not.toBe(db)
    expect(db.$client).toBe(raw)
    expect(scoped.$client).toBeInstanceOf(TenantPool)
    expect((scoped.$client as unknown as TenantPool).unscopedPool).toBe(raw)
    expect(Object.keys(scoped.query).sort()).toEqual(['invoices', 'projects', 'tenants', 'users'])
  })

  test('outside withTenant every query is refused before a connection is attempted', async () => {
    const raw = pool()
    const scoped = tenantDrizzle(drizzle(raw, { schema }))
    await expect(scoped.select().from(schema.projects)).rejects.toSatisfy((e) => TenantScopeError.is(e, 'TENANT_CONTEXT_MISSING'))
    await expect(scoped.execute(sql`SELECT 1`)).rejects.toSatisfy((e) => TenantScopeError.is(e, 'TENANT_CONTEXT_MISSING'))
    await expect(scoped.transaction(async () => 1)).rejects.toSatisfy((e) => TenantScopeError.is(e, 'TENANT_CONTEXT_MISSING'))
    expect(raw.totalCount).toBe(0)
  })

  test('a bad tenant id is refused with INVALID_TENANT_ID, and the id is not in the message', async () => {
    const scoped = tenantDrizzle(drizzle(pool(), { schema }))
    const bad = "x' OR true --"
    const error = await withTenant(bad, () => scoped.select().from(schema.projects)).catch((e: unknown) => e)
    expect(TenantScopeError.is(error, 'INVALID_TENANT_ID')).toBe(true)
    expect((error as Error).message).not.toContain(bad)
  })

  test('options reach the TenantPool: a text tenant id parser accepts slugs', async () => {
    const raw = pool()
    const scoped = tenantDrizzle(drizzle(raw), { parseTenantId: (id) => id, setting: 'app.tenant_slug' })
    // Accepted, so it reaches for a connection, which is refused by the network.
    await expect(withTenant('acme', () => scoped.execute(sql`SELECT 1`))).rejects.toSatisfy(
      (e) => !TenantScopeError.is(e) && /ECONNREFUSED|connect/i.test(String((e as Error).cause ?? e)),
    )
  })

  test('refuses what is not a node-postgres Drizzle instance over a pg.Pool', () => {
    expect(() => tenantDrizzle({})).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
    expect(() => tenantDrizzle(pool())).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
    const client = new pg.Client({ connectionString: unreachable })
    expect(() => tenantDrizzle(drizzle(client))).toSatisfy(() => {
      try {
        tenantDrizzle(drizzle(client))
        return false
      } catch (error) {
        return invalidConfig(error) && /pg\.Pool/.test((error as Error).message)
      }
    })
    expect(() => tenantDrizzle(drizzle.mock())).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
  })

  test('bad TenantPool options are refused at once, naming the option (a typo, a wrong type)', () => {
    const named = (option: string) => (fn: () => unknown) => {
      try {
        fn()
        return false
      } catch (error) {
        return invalidConfig(error) && (error as Error).message.includes(option)
      }
    }
    expect(() => tenantDrizzle(drizzle(pool()), { settting: 'app.tenant' } as never)).toSatisfy(named('settting'))
    expect(() => tenantDrizzle(drizzle(pool()), { parseTenantId: 'uuid' } as never)).toSatisfy(named('parseTenantId'))
    expect(() => createTenantDrizzle(pool(), {}, { setter: 'set_config' } as never)).toSatisfy(named('setter'))
    expect(() => createTenantDrizzle(pool(), {}, { prepareSetter: 'no' } as never)).toSatisfy(named('prepareSetter'))
  })

  test("refuses Drizzle's query cache, which keys on SQL and parameters, not on the tenant", () => {
    const cached = drizzle({ client: pool(), cache: new EveryQueryCache() })
    expect(() => tenantDrizzle(cached)).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringMatching(/cache/) }),
    )
    expect(() => createTenantDrizzle(pool(), { cache: new EveryQueryCache() })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
  })
})

describe('createTenantDrizzle', () => {
  test('builds a Drizzle instance over a new TenantPool, with the given schema', async () => {
    const raw = pool()
    const db = createTenantDrizzle(raw, { schema })
    expect(db.$client).toBeInstanceOf(TenantPool)
    expect(db.$client.unscopedPool).toBe(raw)
    expect(Object.keys(db.query).sort()).toEqual(['invoices', 'projects', 'tenants', 'users'])
    await expect(db.query.projects.findMany()).rejects.toSatisfy((e) => TenantScopeError.is(e, 'TENANT_CONTEXT_MISSING'))
    expect(raw.totalCount).toBe(0)
  })

  test('a bad connection string is refused at once, without echoing it', () => {
    const secret = 'mysql://user:hunter2@db/x'
    const error = (() => {
      try {
        createTenantDrizzle({ connectionString: secret })
      } catch (e) {
        return e
      }
    })()
    expect(invalidConfig(error)).toBe(true)
    expect((error as Error).message).not.toContain('hunter2')
  })
})
