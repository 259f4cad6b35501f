import { randomUUID } from 'node:crypto'
import { createTenantPool, TenantOverloadError, type TenantPool, TenantScopeError, withTenant } from '@tenantscope/core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { useFixture } from './_fixtures.js'

// The fair queue in front of a real pool: who gets a connection when the
// pool is saturated, what an overloaded tenant is told, and the per-tenant
// database limits that ride with the setter.
describe('fairness', () => {
  const fixture = useFixture()
  const A = () => fixture.tenantA
  const B = () => fixture.tenantB
  const pools: TenantPool[] = []
  const pool = (options: Parameters<typeof createTenantPool>[1], max = 2) => {
    const created = createTenantPool({ connectionString: fixture.db.appUrl, max }, options)
    pools.push(created)
    return created
  }
  afterAll(() => Promise.all(pools.map((each) => each.end())))

  beforeAll(async () => {
    await fixture.admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'project of A'), ($2, 'project of B')`, [A(), B()])
  })

  // Every statement holds its connection until `gate` is released: the
  // statements ask an advisory lock that the admin holds.
  async function withGate<T>(fn: (open: () => Promise<void>) => Promise<T>): Promise<T> {
    const gate = await fixture.admin.connect()
    await gate.query('SELECT pg_advisory_lock(42)')
    let opened = false
    const open = async () => {
      if (!opened) await gate.query('SELECT pg_advisory_unlock(42)')
      opened = true
    }
    try {
      return await fn(open)
    } finally {
      await open()
      gate.release()
    }
  }
  const blocked = 'SELECT pg_advisory_lock_shared(42), pg_advisory_unlock_shared(42), (SELECT count(*)::int FROM projects) AS n'

  test("a cold tenant is served before the rest of a hot tenant's backlog", async () => {
    const fair = pool({ fairness: {} }, 2)
    const order: string[] = []
    await withGate(async (open) => {
      const run = (tenant: string, label: string) =>
        withTenant(tenant, () => fair.query(blocked)).then((result) => {
          order.push(label)
          return result
        })
      const hot = Array.from({ length: 8 }, () => run(A(), 'hot'))
      await expect.poll(() => fair.stats().fairness?.waiting).toBe(6)
      const cold = run(B(), 'cold')
      await expect.poll(() => fair.stats().fairness?.waiting).toBe(7)
      await open()
      const results = await Promise.all([...hot, cold])
      expect(results.map((result) => result.rows[0].n)).toEqual(Array(9).fill(1))
    })
    // Two hot statements held the pool; of the seven waiting, the cold one
    // is served in the first round, not after the six hot ones.
    expect(order.indexOf('cold')).toBeLessThanOrEqual(4)
    expect(fair.stats().fairness).toMatchObject({ inUse: 0, waiting: 0 })
  })

  test('maxConnectionsPerTenant: a hot tenant never holds more than its cap, and others still get through', async () => {
    const fair = pool({ fairness: { maxConnectionsPerTenant: 1 } }, 3)
    await withGate(async (open) => {
      const hot = Array.from({ length: 4 }, () => withTenant(A(), () => fair.query(blocked)))
      await expect.poll(() => fair.stats().fairness?.tenants[A()]).toMatchObject({ held: 1, waiting: 3 })
      // The pool has two free connections: B is served at once, while A waits.
      const cold = withTenant(B(), () => fair.query('SELECT count(*)::int AS n FROM projects'))
      expect((await cold).rows).toEqual([{ n: 1 }])
      expect(fair.stats().fairness?.tenants[A()]?.held).toBe(1)
      await open()
      await Promise.all(hot)
    })
    expect(fair.stats().fairness?.tenants[A()]).toMatchObject({ held: 0, waiting: 0, admitted: 4 })
  })

  test('an overloaded tenant gets a typed, retryable TENANT_OVERLOADED and nothing is sent; other tenants go on', async () => {
    const fair = pool({ fairness: { maxConnectionsPerTenant: 1, maxWaitingPerTenant: 1 } }, 2)
    await withGate(async (open) => {
      const held = withTenant(A(), () => fair.query(blocked))
      const waiting = withTenant(A(), () => fair.query(blocked))
      await expect.poll(() => fair.stats().fairness?.tenants[A()]?.waiting).toBe(1)
      const refused = await withTenant(A(), () => fair.query(`INSERT INTO projects (name) VALUES ('never')`)).catch(
        (error: unknown) => error,
      )
      expect(refused).toBeInstanceOf(TenantOverloadError)
      expect(TenantScopeError.is(refused, 'TENANT_OVERLOADED')).toBe(true)
      expect(refused).toMatchObject({ reason: 'queue_full' })
      expect((refused as TenantOverloadError).retryAfter).toBeGreaterThanOrEqual(1)
      expect((await withTenant(B(), () => fair.query('SELECT count(*)::int AS n FROM projects'))).rows).toEqual([{ n: 1 }])
      await open()
      await Promise.all([held, waiting])
    })
    const { rows } = await fixture.admin.query(`SELECT count(*)::int AS n FROM projects WHERE name = 'never'`)
    expect(rows).toEqual([{ n: 0 }])
  })

  test('a request that waits longer than maxWaitMs is refused instead of hanging', async () => {
    const fair = pool({ fairness: { maxWaitMs: 200 } }, 1)
    await withGate(async (open) => {
      const held = withTenant(A(), () => fair.query(blocked))
      await expect.poll(() => fair.stats().fairness?.inUse).toBe(1)
      const refused = await withTenant(B(), () => fair.query('SELECT 1')).catch((error: unknown) => error)
      expect(refused).toMatchObject({ code: 'TENANT_OVERLOADED', reason: 'wait_timeout' })
      await open()
      await held
    })
  })

  test('a transaction holds its connection until it ends: it is never preempted', async () => {
    const fair = pool({ fairness: { maxConnectionsPerTenant: 1 } }, 2)
    const events: string[] = []
    let second: Promise<unknown> | undefined
    await withTenant(A(), () =>
      fair.transaction(async (tx) => {
        second = withTenant(A(), () => fair.query('SELECT 1')).then(() => events.push('second statement'))
        await expect.poll(() => fair.stats().fairness?.tenants[A()]?.waiting).toBe(1)
        await tx.query(`INSERT INTO projects (name) VALUES ('in tx')`)
        events.push('transaction done')
      }),
    )
    await second
    expect(events).toEqual(['transaction done', 'second statement'])
    await fixture.admin.query(`DELETE FROM projects WHERE name = 'in tx'`)
  })

  test('pool.connect() holds a share until release()', async () => {
    const fair = pool({ fairness: { maxConnectionsPerTenant: 1 } }, 2)
    const client = await withTenant(A(), () => fair.connect())
    expect(fair.stats().fairness?.tenants[A()]?.held).toBe(1)
    client.release()
    expect(fair.stats().fairness?.tenants[A()]?.held).toBe(0)
  })

  test('per-tier database limits ride with the setter: applied to the statement, gone after it', async () => {
    const fair = pool({
      fairness: {
        tierOf: (tenantId) => (tenantId === A() ? 'strict' : undefined),
        tiers: { strict: { limits: { statementTimeout: '150ms', lockTimeout: '1s', idleInTransactionSessionTimeout: 5000 } } },
      },
    })
    const settings = `SELECT current_setting('statement_timeout') AS st, current_setting('lock_timeout') AS lt,
      current_setting('idle_in_transaction_session_timeout') AS it`
    expect((await withTenant(A(), () => fair.query(settings))).rows).toEqual([{ st: '150ms', lt: '1s', it: '5s' }])
    await expect(withTenant(A(), () => fair.query('SELECT pg_sleep(2)'))).rejects.toMatchObject({ code: '57014' })
    // Another tier's tenant, and then the same connection outside the tenant's statement, keep the server defaults.
    expect((await withTenant(B(), () => fair.query(settings))).rows).toEqual([{ st: '0', lt: '0', it: '0' }])
    const raw = await fair.unscopedPool.query(settings)
    expect(raw.rows).toEqual([{ st: '0', lt: '0', it: '0' }])
  })

  test('a fairness option that cannot work is refused at construction', () => {
    expect(() => createTenantPool({ connectionString: fixture.db.appUrl }, { fairness: { maxConnectionsPerTenant: 0 } })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    )
  })

  test('without fairness, stats() still reports the pool', async () => {
    const plain = pool({})
    await withTenant(A(), () => plain.query('SELECT 1'))
    expect(plain.stats()).toMatchObject({ totalCount: 1, idleCount: 1, waitingCount: 0 })
    expect(plain.stats().fairness).toBeUndefined()
  })

  test('the tenant id is never in the overload message', async () => {
    const fair = pool({ fairness: { maxWaitMs: 50 } }, 1)
    const tenant = randomUUID()
    await withGate(async (open) => {
      const held = withTenant(A(), () => fair.query(blocked))
      await expect.poll(() => fair.stats().fairness?.inUse).toBe(1)
      const refused = (await withTenant(tenant, () => fair.query('SELECT 1')).catch((error: unknown) => error)) as Error
      expect(refused.message).not.toContain(tenant)
      await open()
      await held
    })
  })
})
