import { TenantScopeError } from '@tenantscope/core'
import { describe, expect, test } from 'vitest'

// What Prisma 7's RequestHandler does with an error that has a `code`: a new error with the same
// code and a copy of `meta` (`{ modelName, ...error.meta }`), the original dropped. The real thing
// is tested in examples/prisma; this pins the shape tenantscope relies on.
function prismaLike(error: TenantScopeError) {
  return Object.assign(new Error(`Invalid \`prisma.project.findMany()\` invocation:\n\n${error.message}`), {
    name: 'PrismaClientKnownRequestError',
    code: error.code,
    meta: { modelName: 'Project', ...error.meta },
  })
}

describe('TenantScopeError.is / from on wrapped refusals', () => {
  const refusal = new TenantScopeError('TENANT_CONTEXT_MISSING', 'No tenant context', { cause: new Error('inner') })

  test('the error itself', () => {
    expect(TenantScopeError.is(refusal, 'TENANT_CONTEXT_MISSING')).toBe(true)
    expect(TenantScopeError.from(refusal)).toBe(refusal)
  })

  test('as the cause of a wrapper, at any depth: from() finds it, is() is only true for the refusal itself', () => {
    const wrapped = new Error('query failed', { cause: new Error('driver', { cause: refusal }) })
    // Adapters (Drizzle's) unwrap with `!is(error) && is(error.cause)`: a wrapper must not pass for the refusal.
    expect(TenantScopeError.is(wrapped)).toBe(false)
    expect(TenantScopeError.from(wrapped)).toBe(refusal)
    expect(TenantScopeError.from(new Error('outer', { cause: prismaLike(refusal) }))).toBe(refusal)
  })

  test('rewrapped the way Prisma does it: same code, meta copied', () => {
    const wrapped = prismaLike(refusal)
    expect(TenantScopeError.is(wrapped)).toBe(true)
    expect(TenantScopeError.is(wrapped, 'TENANT_CONTEXT_MISSING')).toBe(true)
    expect(TenantScopeError.is(wrapped, 'INVALID_TENANT_ID')).toBe(false)
    expect(TenantScopeError.from(wrapped)).toBe(refusal)
    expect(TenantScopeError.from(wrapped)?.cause).toBe(refusal.cause)
  })

  test('the meta is invisible to JSON and to Object.keys (loggers), and a meta copied onto another error does not count', () => {
    expect(JSON.stringify(prismaLike(refusal).meta)).toBe('{"modelName":"Project"}')
    expect(Object.keys(refusal.meta)).toEqual([])
    const unrelated = Object.assign(new Error('P2002'), { code: 'P2002', meta: { ...refusal.meta } })
    expect(TenantScopeError.is(unrelated)).toBe(false)
  })

  test('ordinary errors, database errors and non-errors are not refusals', () => {
    for (const value of [
      new Error('x'),
      Object.assign(new Error('x'), { code: '42501' }),
      { code: 'TENANT_CONTEXT_MISSING' },
      null,
      undefined,
      'TENANT_CONTEXT_MISSING',
    ]) {
      expect(TenantScopeError.is(value)).toBe(false)
      expect(TenantScopeError.from(value)).toBeUndefined()
    }
  })

  test('a cause cycle ends', () => {
    const a: { cause?: unknown } = {}
    const b = { cause: a }
    a.cause = b
    expect(TenantScopeError.from(a)).toBeUndefined()
  })
})
