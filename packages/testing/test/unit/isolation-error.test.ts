import { assertTenantIsolation, checkTenantIsolation, TenantIsolationError } from '@tenantscope/testing'
import { describe, expect, test } from 'vitest'

describe('TenantIsolationError', () => {
  test('is() recognises the brand and the code', () => {
    const error = new TenantIsolationError('PRIVILEGED_ROLE', 'no')
    expect(TenantIsolationError.is(error)).toBe(true)
    expect(TenantIsolationError.is(error, 'PRIVILEGED_ROLE')).toBe(true)
    expect(TenantIsolationError.is(error, 'ISOLATION_FAILED')).toBe(false)
    expect(TenantIsolationError.is(new Error('no'))).toBe(false)
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('TenantIsolationError')
  })

  test('a missing pool is refused before anything connects', async () => {
    for (const run of [assertTenantIsolation, checkTenantIsolation]) {
      const error = await run({} as never).catch((caught: unknown) => caught)
      expect(TenantIsolationError.is(error, 'INVALID_OPTIONS')).toBe(true)
    }
  })
})
