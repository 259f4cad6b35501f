import { createTenantPool, type TenantPool, withTenant } from '@tenantscope/core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { useFixture } from './_fixtures.js'

// An enumerable key on Object.prototype (prototype pollution in some
// dependency) was sent as an extra setting with every query: a dotted name
// reached the database as a setting, any other name broke every query with
// 42704. Only the own, validated settings are sent.
describe('settings inherited from Object.prototype', () => {
  const fixture = useFixture()
  let pool: TenantPool
  beforeAll(() => {
    pool = createTenantPool({ connectionString: fixture.db.appUrl, max: 1 })
  })
  afterAll(() => pool?.end())

  test.each([
    ['a dotted name', 'app.injected'],
    ['a name PostgreSQL does not know', 'injected'],
  ])('%s is never sent, and queries keep working', async (_label, key) => {
    const proto = Object.prototype as Record<string, unknown>
    proto[key] = 'polluted'
    try {
      const { rows } = await withTenant(
        fixture.tenantA,
        () =>
          pool.query(
            `SELECT current_setting('app.injected', true) AS injected, current_setting('app.user_id', true) AS user_id, id FROM tenants`,
          ),
        { settings: { 'app.user_id': 'u1' } },
      )
      expect(rows).toEqual([{ injected: null, user_id: 'u1', id: fixture.tenantA }])
    } finally {
      delete proto[key]
    }
  })
})
