import { setConfigSetter, TenantScopeError, textTenantId, withTenant } from '@tenantscope/core'
import { describe, expect, test } from 'vitest'
import { TenantBinding } from '../../src/tenant-binding.js'

const A = '0b6f0d6e-3f4a-4c1e-9b7a-2f1d5c8e9a10'
const B = '7c1e4f2a-9d3b-4a8e-b6c5-1e2f3a4b5c6d'

describe('TenantBinding', () => {
  test('keeps what a tenant resolves to, each tenant its own', async () => {
    const binding = new TenantBinding()
    const a1 = await withTenant(A, () => binding.resolve())
    const a2 = await withTenant(A.toUpperCase(), () => binding.resolve())
    const b = await withTenant(B, () => binding.resolve())
    // Kept per id as given: the upper-case spelling parses to the same tenant.
    expect(await withTenant(A, () => binding.resolve())).toBe(a1)
    for (const [resolved, id] of [
      [a1, A],
      [a2, A],
      [b, B],
    ] as const) {
      expect(resolved.setter.values).toEqual(['app.current_tenant', id])
      expect(resolved.opening).toBe(`BEGIN; SET LOCAL "app"."current_tenant" = '${id}'`)
    }
    // A kept binding still parses a new id: a refused one throws.
    await expect(withTenant('not-a-uuid', () => binding.resolve())).rejects.toSatisfy((error) =>
      TenantScopeError.is(error, 'INVALID_TENANT_ID'),
    )
  })

  test('two bindings with different settings never share a resolution', async () => {
    const one = new TenantBinding()
    const two = new TenantBinding({ setting: 'app.other_tenant' })
    await withTenant(A, () => one.resolve())
    const resolved = await withTenant(A, () => two.resolve())
    expect(resolved.setter.values).toEqual(['app.other_tenant', A])
  })

  test('extra settings, a custom parser or a custom setter: resolved for every statement', async () => {
    const binding = new TenantBinding()
    const plain = await withTenant(A, () => binding.resolve())
    const extra = await withTenant(A, () => binding.resolve(), { settings: { 'app.user_id': 'u1' } })
    expect(extra).not.toBe(plain)
    expect(extra.setter.values).toEqual(['app.current_tenant', A, 'app.user_id', 'u1'])
    expect(extra.opening).toBeUndefined()
    expect(await withTenant(A, () => binding.resolve())).toBe(plain)

    let parsed = 0
    const counting = new TenantBinding({ parseTenantId: (id) => (parsed++, textTenantId(id)) })
    await withTenant('acme', () => counting.resolve())
    await withTenant('acme', () => counting.resolve())
    expect(parsed).toBe(2)

    let built = 0
    const custom = new TenantBinding({ setter: (entries) => (built++, setConfigSetter(entries)) })
    await withTenant(A, () => custom.resolve())
    await withTenant(A, () => custom.resolve())
    expect(built).toBe(2)
  })
})
