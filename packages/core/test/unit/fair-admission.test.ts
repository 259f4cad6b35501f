import fc from 'fast-check'
import { describe, expect, test, vi } from 'vitest'
import { FairAdmission, type Permit } from '../../src/fair-admission.js'
import { type FairnessOptions, FairnessPolicy } from '../../src/fairness-options.js'
import { TenantOverloadError } from '../../src/tenant-overload-error.js'

const admission = (options: FairnessOptions, capacity: number) => new FairAdmission(new FairnessPolicy(options, capacity), capacity)

// Queues requests behind a full pool, frees the first connection, then
// releases each grant as it comes, recording which tenant got it.
async function grantOrder(fair: FairAdmission, first: Permit, tenants: string[]): Promise<string[]> {
  const order: string[] = []
  const granted: Permit[] = []
  const waits = tenants.map((tenant) =>
    fair.wait(tenant).then((permit) => {
      order.push(tenant)
      granted.push(permit)
    }),
  )
  first.release()
  for (let i = 0; i < tenants.length; i++) {
    await vi.waitUntil(() => granted.length > i)
    granted[i]!.release()
  }
  await Promise.all(waits)
  return order
}

describe('FairAdmission', () => {
  test('a saturated pool serves waiting tenants round-robin, not first come first served', async () => {
    const fair = admission({}, 1)
    const order = await grantOrder(fair, fair.tryAcquire('hot')!, ['hot', 'hot', 'hot', 'cold1', 'cold2'])
    expect(order).toEqual(['hot', 'cold1', 'cold2', 'hot', 'hot'])
  })

  test('a tier with weight 2 gets two grants per turn', async () => {
    const fair = admission({ tierOf: (id) => (id.startsWith('premium') ? 'premium' : undefined), tiers: { premium: { weight: 2 } } }, 1)
    const order = await grantOrder(fair, fair.tryAcquire('x')!, ['premium', 'premium', 'premium', 'premium', 'basic', 'basic', 'basic'])
    expect(order).toEqual(['premium', 'premium', 'basic', 'premium', 'premium', 'basic', 'basic'])
  })

  test('a tenant at its connection cap waits while a free connection goes to another tenant', async () => {
    const fair = admission({ maxConnectionsPerTenant: 1 }, 3)
    const held = fair.tryAcquire('a')!
    expect(fair.tryAcquire('a')).toBeUndefined()
    let second: Permit | undefined
    const waiting = fair.wait('a').then((permit) => (second = permit))
    expect(fair.tryAcquire('b')).toBeDefined()
    await Promise.resolve()
    expect(second).toBeUndefined()
    held.release()
    await waiting
    expect(second).toBeDefined()
    expect(fair.stats().tenants.a).toMatchObject({ held: 1, waiting: 0, admitted: 2 })
  })

  test('a full queue refuses at once with TENANT_OVERLOADED and a retry-after hint', async () => {
    const fair = admission({ maxWaitingPerTenant: 1 }, 1)
    fair.tryAcquire('a')
    const waiting = fair.wait('a')
    const refused = await fair.wait('a').catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(TenantOverloadError)
    expect(refused).toMatchObject({ code: 'TENANT_OVERLOADED', reason: 'queue_full' })
    expect((refused as TenantOverloadError).retryAfter).toBeGreaterThanOrEqual(1)
    expect(fair.stats().tenants.a).toMatchObject({ waiting: 1, refusedQueueFull: 1 })
    void waiting.catch(() => undefined)
  })

  test('a request that waits longer than maxWaitMs is refused and leaves the queue', async () => {
    vi.useFakeTimers()
    try {
      const fair = admission({ maxWaitMs: 50 }, 1)
      const held = fair.tryAcquire('a')!
      const refused = fair.wait('b').catch((error: unknown) => error)
      vi.advanceTimersByTime(51)
      expect(await refused).toMatchObject({ code: 'TENANT_OVERLOADED', reason: 'wait_timeout' })
      expect(fair.stats()).toMatchObject({ inUse: 1, waiting: 0 })
      held.release()
      expect(fair.stats()).toMatchObject({ inUse: 0, waiting: 0 })
    } finally {
      vi.useRealTimers()
    }
  })

  test('a permit released twice frees one connection only', () => {
    const fair = admission({}, 2)
    const a = fair.tryAcquire('a')!
    fair.tryAcquire('b')
    a.release()
    a.release()
    expect(fair.stats().inUse).toBe(1)
  })

  test('caps are never exceeded and nothing is lost under random interleavings (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd'), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 40 }),
        async (capacity, perTenant, requests) => {
          const fair = admission({ maxConnectionsPerTenant: perTenant, maxWaitingPerTenant: 1000 }, capacity)
          const held = new Map<string, number>()
          let inUse = 0
          const run = async ([tenant, ticks]: [string, number]) => {
            const permit = fair.tryAcquire(tenant) ?? (await fair.wait(tenant))
            inUse++
            held.set(tenant, (held.get(tenant) ?? 0) + 1)
            expect(inUse).toBeLessThanOrEqual(capacity)
            expect(held.get(tenant)).toBeLessThanOrEqual(perTenant)
            for (let i = 0; i < ticks; i++) await Promise.resolve()
            inUse--
            held.set(tenant, held.get(tenant)! - 1)
            permit.release()
          }
          await Promise.all(requests.map(run))
          expect(fair.stats()).toMatchObject({ inUse: 0, waiting: 0 })
        },
      ),
      { numRuns: 200 },
    )
  })
})

describe('FairnessPolicy', () => {
  test.each([
    [{ maxConnectionsPerTenant: 0 }, /maxConnections/],
    [{ maxWaitMs: -1 }, /maxWaitMs/],
    [{ weight: 1.5 }, /weight/],
    [{ tierOf: 'premium' }, /tierOf/],
    [{ tiers: { gold: { weight: 0 } } }, /tiers\.gold\.weight/],
    [{ limits: { statementTimeout: "1s'; DROP TABLE x; --" } }, /statementTimeout/],
    [{ limits: { workMem: '1GB' } }, /workMem/],
  ])('refuses %j with INVALID_CONFIG at construction', (options, message) => {
    expect(() => new FairnessPolicy(options as FairnessOptions, 10)).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringMatching(message) }),
    )
  })

  test('a tier overrides the defaults; an unknown tier gets them', () => {
    const policy = new FairnessPolicy(
      {
        maxConnectionsPerTenant: 2,
        limits: { statementTimeout: 5000 },
        tierOf: (id) => id,
        tiers: { gold: { maxConnections: 6, limits: { lockTimeout: '1s' } } },
      },
      10,
    )
    expect(policy.of('gold')).toMatchObject({ maxConnections: 6, weight: 1, limitSettings: [['lock_timeout', '1s']] })
    expect(policy.of('other')).toMatchObject({ maxConnections: 2, limitSettings: [['statement_timeout', '5000']] })
  })
})
