import { textTenantId, withTenant } from '@tenantscope/core'
import { describe, expect, test } from 'vitest'
import { TenantScope } from '../../src/tenant-scope.js'

const A = 'AAAAAAAA-1111-4111-8111-111111111111'

// A context is parsed once per pool and the result kept on the context; two
// pools with different options over the same context must each get their own.
describe('TenantScope.resolve', () => {
  test('parses a context once, and each pool over the same context gets its own setter', async () => {
    const uuids = new TenantScope()
    const other = new TenantScope({ setting: 'app.other_tenant', parseTenantId: textTenantId, prepareSetter: false })
    await withTenant(A, () => {
      const first = uuids.resolve()
      expect(first.tenantId).toBe(A.toLowerCase())
      expect(first.setterStatement.values).toEqual(['app.current_tenant', A.toLowerCase()])
      expect(uuids.resolve()).toBe(first)

      // Taking turns on one context: neither sees the other's result.
      for (let turn = 0; turn < 3; turn++) {
        expect(other.resolve().setterStatement.values).toEqual(['app.other_tenant', A])
        expect(uuids.resolve().setterStatement.values).toEqual(['app.current_tenant', A.toLowerCase()])
      }
    })
  })

  test('a nested context is resolved on its own, and the outer one keeps its tenant', async () => {
    const scope = new TenantScope()
    const B = '22222222-2222-4222-8222-222222222222'
    await withTenant(A, async () => {
      const outer = scope.resolve()
      await withTenant(B, () => expect(scope.resolve().tenantId).toBe(B))
      expect(scope.resolve()).toBe(outer)
    })
  })

  test('a rejected id is refused on every call, not remembered as resolved', async () => {
    const scope = new TenantScope()
    await withTenant('not-a-uuid', () => {
      for (let call = 0; call < 2; call++) {
        expect(() => scope.resolve()).toThrow(expect.objectContaining({ code: 'INVALID_TENANT_ID' }))
      }
    })
  })
})
