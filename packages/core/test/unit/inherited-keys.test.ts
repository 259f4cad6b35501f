import { createTenantPool, getTenantId, withTenant } from '@tenantscope/core'
import { resolveRequestTenant, trustedHeaderTenant } from '@tenantscope/core/http'
import { JobTenantError, readJobTenant, tenantJob, tenantPayload } from '@tenantscope/core/jobs'
import { jwtTenant } from '@tenantscope/core/jwt'
import pg from 'pg'
import { describe, expect, test } from 'vitest'
import { TenantScope } from '../../src/tenant-scope.js'
import { SECRET, sign } from './http/_tokens.js'

const A = '11111111-1111-4111-8111-111111111111'
const POLLUTED = '99999999-9999-4999-8999-999999999999'

// Prototype pollution: some dependency sets an enumerable key on
// Object.prototype. Every object a user hands to tenantscope then "has" it.
// Only own properties may ever count: an inherited key is never a tenant, a
// setting or an option.
async function withPolluted<T>(key: string, value: unknown, fn: () => T | Promise<T>): Promise<T> {
  ;(Object.prototype as Record<string, unknown>)[key] = value
  try {
    return await fn()
  } finally {
    delete (Object.prototype as Record<string, unknown>)[key]
  }
}

describe('keys inherited from Object.prototype are never read', () => {
  test('an inherited setting key is never sent with the tenant', async () => {
    const scope = new TenantScope({ prepareSetter: false })
    await withPolluted('app.injected', 'x', () =>
      withTenant(A, () => expect(scope.resolve().setterStatement.values).toEqual(['app.current_tenant', A, 'app.user_id', 'u1']), {
        settings: { 'app.user_id': 'u1' },
      }).then(() => withTenant(A, () => expect(scope.resolve().setterStatement.values).toEqual(['app.current_tenant', A]))),
    )
  })

  test('an inherited settings option of withTenant is not taken as settings', async () => {
    const scope = new TenantScope({ prepareSetter: false })
    await withPolluted('settings', { 'app.user_id': 'intruder' }, () =>
      withTenant(A, () => expect(scope.resolve().setterStatement.values).toEqual(['app.current_tenant', A]), {}),
    )
  })

  test('an inherited tenantId does not give a tenant-less job a tenant', async () => {
    await withPolluted('tenantId', POLLUTED, async () => {
      expect(() => readJobTenant({ month: '11' })).toThrow(expect.objectContaining({ code: 'JOB_TENANT_MISSING' }))
      let ran = false
      const handler = tenantJob(async () => {
        ran = true
      })
      await expect(handler({ data: {} })).rejects.toSatisfy((error) => JobTenantError.is(error, 'JOB_TENANT_MISSING'))
      expect(ran).toBe(false)
    })
  })

  test('an inherited job data is no payload', async () => {
    await withPolluted('data', { tenantId: POLLUTED }, async () => {
      let ran = false
      const handler = tenantJob(async () => {
        ran = true
      })
      await expect(handler({} as never)).rejects.toSatisfy((error) => JobTenantError.is(error, 'JOB_PAYLOAD_INVALID'))
      expect(ran).toBe(false)
    })
  })

  test('an inherited job option (key, parseTenantId) is not used', async () => {
    await withPolluted('key', 'org', async () => {
      expect(readJobTenant({ tenantId: A, org: 'acme' })).toBe(A)
      expect(await withTenant(A, () => tenantPayload({}))).toEqual({ tenantId: A })
    })
    await withPolluted(
      'parseTenantId',
      (raw: string) => raw,
      () => {
        expect(() => readJobTenant({ tenantId: 'not-a-uuid' })).toThrow(expect.objectContaining({ code: 'JOB_TENANT_INVALID' }))
      },
    )
  })

  test('tenantPayload: an inherited tenantId on the data is not a mismatch, and is replaced by an own one', async () => {
    await withPolluted('tenantId', POLLUTED, async () => {
      const payload = await withTenant(A, () => tenantPayload({ month: '11' }))
      expect(Object.hasOwn(payload, 'tenantId')).toBe(true)
      expect(payload.tenantId).toBe(A)
    })
  })

  test("an inherited header is not the request's header", async () => {
    await withPolluted('x-tenant-id', POLLUTED, async () => {
      const outcome = await resolveRequestTenant({ resolveTenant: trustedHeaderTenant() }, { headers: {} })
      expect(outcome).toMatchObject({ ok: false, status: 401 })
    })
  })

  test("an inherited tenantId or settings on a resolver's answer is not used", async () => {
    await withPolluted('tenantId', POLLUTED, async () => {
      const outcome = await resolveRequestTenant({ resolveTenant: () => ({}) as never }, {})
      expect(outcome).toMatchObject({ ok: false, status: 400 })
    })
    await withPolluted('settings', { 'app.user_id': 'intruder' }, async () => {
      const outcome = await resolveRequestTenant({ resolveTenant: () => ({ tenantId: A }) }, {})
      expect(outcome).toEqual({ ok: true, tenantId: A, settings: undefined })
    })
  })

  test('an inherited resolver option (parseTenantId) is not used', async () => {
    await withPolluted(
      'parseTenantId',
      (raw: string) => raw,
      async () => {
        const outcome = await resolveRequestTenant({ resolveTenant: () => 'acme' }, {})
        expect(outcome).toMatchObject({ ok: false, status: 400 })
      },
    )
  })

  test('an inherited claim grants no tenant', async () => {
    const resolve = jwtTenant({ secret: SECRET, tenantsClaim: 'tenants' })
    const token = await sign({ sub: 'user-1' })
    const request = { headers: { authorization: `Bearer ${token}` } }
    await withPolluted('tenant_id', POLLUTED, () => expect(resolve(request)).rejects.toMatchObject({ code: 'TENANT_FORBIDDEN' }))
    await withPolluted('tenants', [POLLUTED], () => expect(resolve(request)).rejects.toMatchObject({ code: 'TENANT_FORBIDDEN' }))
  })

  test('a config object is not taken for a pool because Object.prototype has connect, query and end', async () => {
    const fake = () => {
      throw new Error('the polluted method ran')
    }
    const config = { connectionString: 'postgres://nobody@127.0.0.1:1/none' }
    const pool = await withPolluted('connect', fake, () =>
      withPolluted('query', fake, () => withPolluted('end', fake, () => createTenantPool(config))),
    )
    try {
      expect(pool.unscopedPool).toBeInstanceOf(pg.Pool)
    } finally {
      await pool.end()
    }
  })

  test('the handler still runs for an own tenant while Object.prototype is polluted', async () => {
    await withPolluted('tenantId', POLLUTED, async () => {
      expect(await tenantJob(async () => getTenantId())({ data: { tenantId: A } })).toBe(A)
    })
  })
})
