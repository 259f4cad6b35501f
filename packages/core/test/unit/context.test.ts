import { getTenantId, TenantScopeError, tryGetTenantId, withTenant } from '@tenantscope/core'
import { describe, expect, test } from 'vitest'

const A = '11111111-1111-4111-8111-111111111111'
const B = '22222222-2222-4222-8222-222222222222'

describe('tenant context', () => {
  test('getTenantId throws TENANT_CONTEXT_MISSING outside withTenant; tryGetTenantId returns undefined', () => {
    expect(tryGetTenantId()).toBeUndefined()
    expect(() => getTenantId()).toThrow(expect.objectContaining({ code: 'TENANT_CONTEXT_MISSING' }))
  })

  test('the tenant flows through awaits, timers and nested calls, and nesting restores the outer one', async () => {
    const seen = await withTenant(A, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1))
      const inner = await withTenant(B, async () => getTenantId())
      return [getTenantId(), inner, getTenantId()]
    })
    expect(seen).toEqual([A, B, A])
    expect(tryGetTenantId()).toBeUndefined()
  })

  test('concurrent contexts do not bleed into each other', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `tenant-${i}`)
    const results = await Promise.all(
      ids.map((id, i) =>
        withTenant(id, async () => {
          await new Promise((resolve) => setTimeout(resolve, (i * 7) % 5))
          return getTenantId()
        }),
      ),
    )
    expect(results).toEqual(ids)
  })

  test('withTenant returns the callback result, sync or async, and passes its rejection on', async () => {
    expect(await withTenant(A, () => 42)).toBe(42)
    expect(await withTenant(A, async () => 'x')).toBe('x')
    const boom = new Error('boom')
    await expect(withTenant(A, () => Promise.reject(boom))).rejects.toBe(boom)
    await expect(
      withTenant(A, () => {
        throw boom
      }),
    ).rejects.toBe(boom)
  })

  test('a promise from fn is passed back as it is; a thenable is adopted inside the tenant context', async () => {
    const own = Promise.resolve('mine')
    expect(withTenant(A, () => own)).toBe(own)
    const thenable = {
      // biome-ignore lint/suspicious/noThenProperty: the test needs a thenable that is not a Promise.
      then(resolve: (value: string | undefined) => void) {
        resolve(tryGetTenantId())
      },
    }
    expect(await withTenant(A, () => thenable as unknown as Promise<string | undefined>)).toBe(A)
  })

  test('obviously bad ids are refused by withTenant itself, and fn is not called', async () => {
    let called = false
    for (const bad of ['', 'x'.repeat(10_000), 42, null, undefined, {}]) {
      await expect(
        withTenant(bad as string, () => {
          called = true
        }),
      ).rejects.toSatisfy((error) => TenantScopeError.is(error, 'INVALID_TENANT_ID'))
    }
    expect(called).toBe(false)
  })

  test('settings are validated when the context is entered', async () => {
    for (const settings of [{ 'no-dots allowed?': 'x' }, { 'app.x': 42 }, { 'app.x': 'nul\0byte' }, [] as never]) {
      await expect(withTenant(A, () => 1, { settings: settings as never })).rejects.toMatchObject({ code: 'INVALID_SETTING' })
    }
    expect(await withTenant(A, () => 1, { settings: { 'app.user_id': 'u1', role: 'reader' } })).toBe(1)
  })
})
