import { bearerToken, resolveRequestTenant, trustedHeaderTenant } from '@tenantscope/core/http'
import { describe, expect, test } from 'vitest'
import { A } from './_tokens.js'

describe('trustedHeaderTenant', () => {
  const resolveTenant = trustedHeaderTenant()

  test('reads x-tenant-id from Node headers, Fetch Headers and a Hono-style context', async () => {
    expect(await resolveRequestTenant({ resolveTenant }, { headers: { 'x-tenant-id': A } })).toMatchObject({ ok: true, tenantId: A })
    expect(await resolveRequestTenant({ resolveTenant }, { headers: new Headers({ 'X-Tenant-Id': A }) })).toMatchObject({
      ok: true,
      tenantId: A,
    })
    expect(
      await resolveRequestTenant({ resolveTenant }, { req: { header: (n: string) => (n === 'x-tenant-id' ? A : undefined) } }),
    ).toMatchObject({ ok: true, tenantId: A })
  })

  test('missing → 401, malformed → 400, repeated → 400', async () => {
    expect(await resolveRequestTenant({ resolveTenant }, { headers: {} })).toMatchObject({ status: 401 })
    expect(await resolveRequestTenant({ resolveTenant }, { headers: { 'x-tenant-id': '42' } })).toMatchObject({ status: 400 })
    expect(await resolveRequestTenant({ resolveTenant }, { headers: { 'x-tenant-id': [A, A] } })).toMatchObject({ status: 400 })
  })

  test('a custom header name', async () => {
    const custom = trustedHeaderTenant({ header: 'X-Internal-Tenant' })
    expect(await resolveRequestTenant({ resolveTenant: custom }, { headers: { 'x-internal-tenant': A } })).toMatchObject({ tenantId: A })
  })

  test('bearerToken reads Bearer tokens and refuses other schemes', () => {
    expect(bearerToken({ headers: { authorization: 'Bearer abc.def.ghi' } })).toBe('abc.def.ghi')
    expect(bearerToken({ headers: {} })).toBeUndefined()
    expect(() => bearerToken({ headers: { authorization: 'Token abc' } })).toThrow(/Bearer/)
  })
})
