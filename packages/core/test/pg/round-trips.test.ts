import { createTenantPool, TenantScopeError, withTenant } from '@tenantscope/core'
import { badTenantIds, startWireCounter, type WireCounter } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { useFixture } from './_fixtures.js'

// Round trips are counted on the wire (turns and protocol messages through a
// proxy), never by timing.
describe('one round trip', () => {
  const fixture = useFixture()
  let counter: WireCounter
  let raw: pg.Pool
  let pool: ReturnType<typeof createTenantPool>

  beforeAll(async () => {
    const url = new URL(fixture.db.appUrl)
    counter = await startWireCounter({ host: url.hostname, port: Number(url.port || 5432) })
    raw = new pg.Pool({ connectionString: counter.url(fixture.db.appUrl), max: 1 })
    pool = createTenantPool(raw)
    await raw.query('SELECT 1') // connect and authenticate before counting
  })
  afterAll(async () => {
    await pool?.end()
    await counter?.close()
  })
  beforeEach(() => counter.reset())

  test('a raw pg query with parameters costs one round trip (the baseline)', async () => {
    await raw.query('SELECT $1::int AS n', [1])
    expect(counter.roundTrips()).toBe(1)
  })

  test('a scoped query costs one round trip: setter and statement share one Sync', async () => {
    const { rows } = await withTenant(fixture.tenantA, () => pool.query('SELECT id FROM tenants'))
    expect(rows).toEqual([{ id: fixture.tenantA }])
    expect(counter.roundTrips()).toBe(1)
    expect(counter.messages()).toEqual({ P: 2, B: 2, E: 2, D: 1, S: 1 })
  })

  test('a scoped query without parameters still goes through the extended protocol', async () => {
    await withTenant(fixture.tenantA, () => pool.query('SELECT 1'))
    expect(counter.messages().Q).toBeUndefined()
    expect(counter.roundTrips()).toBe(1)
  })

  test('a transaction carries the setting with its BEGIN: no extra round trip', async () => {
    await withTenant(fixture.tenantA, () =>
      pool.transaction(async (client) => {
        await client.query('SELECT count(*) FROM projects')
        await client.query('SELECT count(*) FROM users')
      }),
    )
    // BEGIN (with the setter), two statements, COMMIT: four, as with raw pg.
    expect(counter.roundTrips()).toBe(4)
    // Only BEGIN needs the pipeline; inside the transaction pg sends its own messages.
    expect(counter.messages()).toMatchObject({ S: 1, Q: 3 })
  })

  test('refusals send nothing: no context, bad ids', async () => {
    await expect(pool.query('SELECT 1')).rejects.toMatchObject({ code: 'TENANT_CONTEXT_MISSING' })
    for (const bad of badTenantIds) {
      await expect(withTenant(bad as string, () => pool.query('SELECT 1'))).rejects.toSatisfy((error) =>
        TenantScopeError.is(error, 'INVALID_TENANT_ID'),
      )
    }
    expect(counter.roundTrips()).toBe(0)
    expect(counter.messages()).toEqual({})
  })
})
