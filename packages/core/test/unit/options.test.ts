import { createTenantPool, TenantScopeError, withTenant } from '@tenantscope/core'
import { tenantMiddleware as expressMiddleware } from '@tenantscope/core/express'
import { tenantHook, tenantScope } from '@tenantscope/core/fastify'
import { tenantMiddleware as honoMiddleware } from '@tenantscope/core/hono'
import { resolveRequestTenant, trustedHeaderTenant } from '@tenantscope/core/http'
import { readJobTenant, sendTenantJob, tenantJob, tenantPayload } from '@tenantscope/core/jobs'
import { jwtTenant } from '@tenantscope/core/jwt'
import pg from 'pg'
import { describe, expect, test } from 'vitest'
import { SECRET } from './http/_tokens.js'

const A = '11111111-1111-4111-8111-111111111111'

/** INVALID_CONFIG whose message names `option`, and never contains `secret` (a value that may be a secret). */
function invalidConfig(option: string | RegExp, secret = '\0never') {
  return (error: unknown) =>
    TenantScopeError.is(error, 'INVALID_CONFIG') &&
    (typeof option === 'string' ? error.message.includes(option) : option.test(error.message)) &&
    !error.message.includes(secret)
}

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  return undefined
}

// A pg.Pool that is never connected: options are refused before any query.
const idlePool = () => new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' })

describe('options are checked where they are given (INVALID_CONFIG naming the option)', () => {
  test.each([
    ['parseTenantId', { parseTenantId: 'uuid' }],
    ['setter', { setter: 'set_config' }],
    ['prepareSetter', { prepareSetter: 'false' }],
    ['prepareSetter', { prepareSetter: 0 }],
    ['setting', { setting: 42 }],
    ['settting', { settting: 'app.tenant' }],
    ['options must be an object', 'app.current_tenant'],
  ])('createTenantPool refuses a bad %s', (option, options) => {
    const pool = idlePool()
    try {
      expect(thrown(() => createTenantPool(pool, options as never))).toSatisfy(invalidConfig(option))
    } finally {
      void pool.end()
    }
  })

  test('a valid set of options, and undefined ones, are accepted', () => {
    const pool = idlePool()
    try {
      createTenantPool(pool, { setting: 'app.tenant', parseTenantId: (raw) => raw, prepareSetter: false, setter: undefined })
    } finally {
      void pool.end()
    }
  })

  test('pool.transaction refuses a typo or a wrong type before a connection is taken', async () => {
    const raw = idlePool()
    const pool = createTenantPool(raw)
    let ran = false
    const fn = async () => {
      ran = true
    }
    try {
      await expect(withTenant(A, () => pool.transaction(fn, { readonly: true } as never))).rejects.toSatisfy(invalidConfig('readonly'))
      await expect(withTenant(A, () => pool.transaction(fn, { readOnly: 'yes' } as never))).rejects.toSatisfy(invalidConfig('readOnly'))
      await expect(withTenant(A, () => pool.transaction(fn, { isolationLevel: 'snapshot' } as never))).rejects.toSatisfy(
        invalidConfig('isolationLevel'),
      )
      expect(ran).toBe(false)
      expect(raw.totalCount).toBe(0)
    } finally {
      await pool.end()
    }
  })

  test('withTenant refuses unknown options, before fn runs', async () => {
    let ran = false
    const run = () => {
      ran = true
    }
    await expect(withTenant(A, run, { setings: { 'app.user_id': 'u' } } as never)).rejects.toSatisfy(invalidConfig('setings'))
    await expect(withTenant(A, run, 'app.user_id' as never)).rejects.toSatisfy(invalidConfig('options must be an object'))
    expect(ran).toBe(false)
  })

  test('the job helpers refuse bad options', async () => {
    expect(thrown(() => tenantJob(async () => undefined, { kye: 'org' } as never))).toSatisfy(invalidConfig('kye'))
    expect(thrown(() => tenantJob(async () => undefined, { parseTenantId: 'uuid' } as never))).toSatisfy(invalidConfig('parseTenantId'))
    expect(thrown(() => tenantJob('handler' as never))).toSatisfy(invalidConfig('handler'))
    expect(thrown(() => readJobTenant({ tenantId: A }, { key: '' }))).toSatisfy(invalidConfig('key'))
    await expect(withTenant(A, () => tenantPayload({}, { key: 7 } as never))).rejects.toSatisfy(invalidConfig('key'))
    const boss = { send: async () => 'job' }
    const typo = { parse: 1 } as never
    await expect(withTenant(A, () => sendTenantJob(boss, 'report', {}, undefined, typo))).rejects.toSatisfy(invalidConfig('parse'))
    await expect(withTenant(A, () => sendTenantJob({} as never, 'report'))).rejects.toSatisfy(invalidConfig('send'))
    await expect(withTenant(A, () => sendTenantJob(boss, ''))).rejects.toSatisfy(invalidConfig('name'))
  })

  test('the HTTP adapters refuse bad options at construction', async () => {
    const resolveTenant = () => A
    for (const make of [expressMiddleware, honoMiddleware, tenantHook] as Array<(options: never) => unknown>) {
      expect(thrown(() => make({} as never))).toSatisfy(invalidConfig('resolveTenant'))
      expect(thrown(() => make({ resolveTenant: 'jwt' } as never))).toSatisfy(invalidConfig('resolveTenant'))
      expect(thrown(() => make({ resolveTenant, parseTenantID: resolveTenant } as never))).toSatisfy(invalidConfig('parseTenantID'))
    }
    await expect(resolveRequestTenant({ resolveTenant, parse: 1 } as never, {})).rejects.toSatisfy(invalidConfig('parse'))
    expect(thrown(() => trustedHeaderTenant({ header: 'x tenant' }))).toSatisfy(invalidConfig('header'))
    expect(thrown(() => trustedHeaderTenant({ headers: 'x-tenant' } as never))).toSatisfy(invalidConfig('headers'))
  })

  test("the Fastify plugin takes register()'s own options, and refuses a typo", () => {
    const hooks: unknown[] = []
    const instance = { addHook: (_name: string, hook: unknown) => hooks.push(hook) }
    tenantScope(instance, { resolveTenant: () => A, prefix: '/api', logLevel: 'warn' } as never, () => undefined)
    expect(hooks).toHaveLength(1)
    const typo = { resolveTenat: () => A } as never
    expect(thrown(() => tenantScope(instance, typo, () => undefined))).toSatisfy(invalidConfig('resolveTenat'))
  })

  test('jwtTenant refuses bad options without printing a secret', () => {
    const secret = 'a-secret-that-must-never-appear-in-any-message'
    expect(thrown(() => jwtTenant({ secret, algorithm: ['HS256'] } as never))).toSatisfy(invalidConfig('algorithm', secret))
    expect(thrown(() => jwtTenant({ secret: 42 } as never))).toSatisfy(invalidConfig('secret'))
    expect(thrown(() => jwtTenant({ secret, algorithms: 'HS256' } as never))).toSatisfy(invalidConfig('algorithms', secret))
    expect(thrown(() => jwtTenant({ secret, tenantClaim: '' }))).toSatisfy(invalidConfig('tenantClaim', secret))
    expect(thrown(() => jwtTenant({ secret, clockTolerance: -1 }))).toSatisfy(invalidConfig('clockTolerance', secret))
    expect(thrown(() => jwtTenant({ secret: 'short' }))).toSatisfy(invalidConfig('32 bytes'))
    expect(thrown(() => jwtTenant({ secret, keys: async () => secret }))).toSatisfy(invalidConfig('exactly one of', secret))
    expect(jwtTenant({ secret: SECRET, issuer: ['a', 'b'], clockTolerance: 5 })).toBeTypeOf('function')
  })
})
