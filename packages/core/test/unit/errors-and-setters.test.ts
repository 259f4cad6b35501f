import { setConfigSetter, setLocalSetter, TenantScopeError } from '@tenantscope/core'
import { describe, expect, test, vi } from 'vitest'

describe('TenantScopeError', () => {
  test('keeps its code and cause, and is recognised across copies by its brand', () => {
    const cause = new Error('underlying')
    const error = new TenantScopeError('TENANT_MISMATCH', 'message', { cause })
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('TenantScopeError')
    expect(error.cause).toBe(cause)
    expect(TenantScopeError.is(error)).toBe(true)
    expect(TenantScopeError.is(error, 'TENANT_MISMATCH')).toBe(true)
    expect(TenantScopeError.is(error, 'INVALID_TENANT_ID')).toBe(false)
    // What a second installed copy of the class would produce.
    const foreign = Object.assign(new Error('x'), { code: 'TENANT_MISMATCH', [Symbol.for('tenantscope:TenantScopeError')]: true })
    expect(TenantScopeError.is(foreign, 'TENANT_MISMATCH')).toBe(true)
    expect(TenantScopeError.is(Object.assign(new Error('x'), { code: 'TENANT_MISMATCH' }))).toBe(false)
  })
})

describe('error brands', () => {
  const brand = (name: string) => Symbol.for(`tenantscope:${name}`)

  test('every error class is recognised by the brand key other copies use, both ways', async () => {
    const { JobTenantError } = await import('@tenantscope/core/jobs')
    const { TenantResolutionError } = await import('@tenantscope/core/http')
    const cases = [
      [TenantScopeError, 'TenantScopeError', new TenantScopeError('INVALID_CONFIG', 'x'), 'INVALID_CONFIG'],
      [JobTenantError, 'JobTenantError', new JobTenantError('JOB_TENANT_MISSING', 'x'), 'JOB_TENANT_MISSING'],
      [TenantResolutionError, 'TenantResolutionError', new TenantResolutionError('TENANT_FORBIDDEN', 'x'), 'TENANT_FORBIDDEN'],
    ] as const
    for (const [ErrorClass, name, error, code] of cases) {
      // An older copy's is() reads the brand off the error.
      expect((error as unknown as Record<symbol, unknown>)[brand(name)]).toBe(true)
      // An older copy's instance carries the brand as an own field.
      const foreign = Object.assign(new Error('x'), { code, [brand(name)]: true })
      expect((ErrorClass.is as (e: unknown, c?: string) => boolean)(foreign, code)).toBe(true)
      expect((ErrorClass.is as (e: unknown, c?: string) => boolean)(foreign, 'OTHER')).toBe(false)
      expect(ErrorClass.is(new Error('x'))).toBe(false)
    }
    // A JobTenantError is a TenantScopeError too; a TenantScopeError is no JobTenantError.
    expect(TenantScopeError.is(new JobTenantError('JOB_TENANT_MISSING', 'x'), 'JOB_TENANT_MISSING')).toBe(true)
    expect(JobTenantError.is(new TenantScopeError('INVALID_CONFIG', 'x'))).toBe(false)
  })
})

describe('two installed copies', () => {
  // A fresh evaluation of the package's modules is a second copy of every
  // class, as a second installed version would be: instanceof fails across
  // them, is() does not.
  test('is() recognises the errors of the other copy, with their codes', async () => {
    const { JobTenantError } = await import('@tenantscope/core/jobs')
    const { TenantResolutionError } = await import('@tenantscope/core/http')
    vi.resetModules()
    const other = await import('@tenantscope/core')
    const otherJobs = await import('@tenantscope/core/jobs')
    const otherHttp = await import('@tenantscope/core/http')
    expect(other.TenantScopeError).not.toBe(TenantScopeError)

    const fromOther = new other.TenantScopeError('TENANT_MISMATCH', 'x')
    expect(fromOther).not.toBeInstanceOf(TenantScopeError)
    expect(TenantScopeError.is(fromOther, 'TENANT_MISMATCH')).toBe(true)
    expect(other.TenantScopeError.is(new TenantScopeError('INVALID_CONFIG', 'x'), 'INVALID_CONFIG')).toBe(true)

    const jobError = new otherJobs.JobTenantError('JOB_TENANT_INVALID', 'x')
    expect(jobError).not.toBeInstanceOf(JobTenantError)
    expect(JobTenantError.is(jobError, 'JOB_TENANT_INVALID')).toBe(true)
    expect(TenantScopeError.is(jobError, 'JOB_TENANT_INVALID')).toBe(true)
    expect(TenantResolutionError.is(new otherHttp.TenantResolutionError('TENANT_FORBIDDEN', 'x'), 'TENANT_FORBIDDEN')).toBe(true)
    expect(TenantResolutionError.is(fromOther)).toBe(false)
  })
})

describe('setters', () => {
  test('every value is a bind parameter, never part of the text', () => {
    const hostile = "x'); DROP TABLE t; --"
    for (const setter of [setConfigSetter, setLocalSetter]) {
      const statement = setter([
        ['app.current_tenant', hostile],
        ['app.user_id', hostile],
      ])
      expect(statement.text).not.toContain(hostile)
      expect(statement.values).toEqual(['app.current_tenant', hostile, 'app.user_id', hostile])
    }
    expect(setConfigSetter([['app.current_tenant', 't']]).text).toBe('SELECT set_config($1, $2, true)')
  })
})
