import { setConfigSetter, setLocalSetter, TenantScopeError } from '@tenantscope/core'
import { describe, expect, test } from 'vitest'

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
