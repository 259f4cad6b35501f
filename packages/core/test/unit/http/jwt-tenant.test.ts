import { generateKeyPairSync } from 'node:crypto'
import { resolveRequestTenant, TenantResolutionError, type TenantResolver } from '@tenantscope/core/http'
import { jwtTenant } from '@tenantscope/core/jwt'
import { base64url, SignJWT } from 'jose'
import { describe, expect, test } from 'vitest'
import { A, B, SECRET, sign } from './_tokens.js'

const request = (token?: string, extra: Record<string, string> = {}) => ({
  headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...extra },
})

async function outcome<R>(resolver: TenantResolver<R>, req: R) {
  return resolveRequestTenant({ resolveTenant: resolver }, req)
}

describe('jwtTenant', () => {
  const resolver = jwtTenant({ secret: SECRET, issuer: 'https://auth.test' })

  test('a verified token yields its tenant claim, lower-cased by the parser', async () => {
    const token = await sign({ tenant_id: A.toUpperCase(), sub: 'u1' }, { issuer: 'https://auth.test' })
    expect(await outcome(resolver, request(token))).toEqual({ ok: true, tenantId: A, settings: undefined })
  })

  test('no Authorization header → 401 UNAUTHENTICATED with WWW-Authenticate', async () => {
    const result = await outcome(resolver, request())
    expect(result).toMatchObject({ ok: false, status: 401, body: { error: { code: 'UNAUTHENTICATED' } } })
    expect(result.ok === false && result.headers['www-authenticate']).toBe('Bearer')
  })

  test('tokens that do not verify → 401: wrong secret, expired, wrong issuer, alg none, garbage, other scheme', async () => {
    const wrongSecret = await sign({ tenant_id: A }, { secret: 'another-secret-that-is-also-long-enough!!', issuer: 'https://auth.test' })
    const expired = await sign({ tenant_id: A }, { expiresIn: Math.floor(Date.now() / 1000) - 60, issuer: 'https://auth.test' })
    const wrongIssuer = await sign({ tenant_id: A }, { issuer: 'https://evil.test' })
    const none = `${base64url.encode(JSON.stringify({ alg: 'none' }))}.${base64url.encode(JSON.stringify({ tenant_id: A, iss: 'https://auth.test' }))}.`
    for (const token of [wrongSecret, expired, wrongIssuer, none, 'not.a.token']) {
      expect(await outcome(resolver, request(token))).toMatchObject({
        ok: false,
        status: 401,
        body: { error: { code: 'UNAUTHENTICATED' } },
      })
    }
    expect(await outcome(resolver, { headers: { authorization: 'Basic dXNlcjpwYXNz' } })).toMatchObject({ status: 401 })
  })

  test('a valid token without a tenant claim → 403; a malformed tenant claim → 400', async () => {
    const noTenant = await sign({ sub: 'u1' }, { issuer: 'https://auth.test' })
    expect(await outcome(resolver, request(noTenant))).toMatchObject({
      ok: false,
      status: 403,
      body: { error: { code: 'TENANT_FORBIDDEN' } },
    })
    const malformed = await sign({ tenant_id: "x'; DROP TABLE projects; --" }, { issuer: 'https://auth.test' })
    expect(await outcome(resolver, request(malformed))).toMatchObject({
      ok: false,
      status: 400,
      body: { error: { code: 'INVALID_TENANT_ID' } },
    })
  })

  test('requestedTenant: granted → that tenant; not granted → 403; malformed → 400', async () => {
    const multi = jwtTenant<{ headers: Record<string, string> }>({
      secret: SECRET,
      tenantsClaim: 'tenants',
      requestedTenant: (req) => req.headers['x-tenant-id'],
    })
    const token = await sign({ tenants: [A, B] })
    expect(await outcome(multi, request(token, { 'x-tenant-id': B }))).toMatchObject({ ok: true, tenantId: B })
    const onlyA = await sign({ tenants: [A] })
    expect(await outcome(multi, request(onlyA))).toMatchObject({ ok: true, tenantId: A })
    expect(await outcome(multi, request(onlyA, { 'x-tenant-id': B }))).toMatchObject({ ok: false, status: 403 })
    expect(await outcome(multi, request(token))).toMatchObject({ ok: false, status: 403 }) // two grants, none chosen
    expect(await outcome(multi, request(token, { 'x-tenant-id': 'not-a-uuid' }))).toMatchObject({ ok: false, status: 400 })
  })

  test('settings from claims travel with the tenant', async () => {
    const withUser = jwtTenant({ secret: SECRET, settings: (claims) => ({ 'app.user_id': String(claims.sub) }) })
    const token = await sign({ tenant_id: A, sub: 'user-7' })
    expect(await outcome(withUser, request(token))).toEqual({ ok: true, tenantId: A, settings: { 'app.user_id': 'user-7' } })
  })

  test('RS256 with a PEM public key; an HS256 token is refused by an RS256 resolver', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const rs = jwtTenant({ publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string })
    const token = await new SignJWT({ tenant_id: A }).setProtectedHeader({ alg: 'RS256' }).setExpirationTime('1m').sign(privateKey)
    expect(await outcome(rs, request(token))).toMatchObject({ ok: true, tenantId: A })
    expect(await outcome(rs, request(await sign({ tenant_id: A })))).toMatchObject({ ok: false, status: 401 })
  })

  test('configuration mistakes throw at once', () => {
    expect(() => jwtTenant({ secret: 'short' })).toThrow(/at least 32 bytes/)
    expect(() => jwtTenant({})).toThrow(/exactly one of/)
  })

  test('resolver errors that are not refusals propagate (for the framework error handler)', async () => {
    await expect(
      resolveRequestTenant(
        {
          resolveTenant: () => {
            throw new Error('boom')
          },
        },
        {},
      ),
    ).rejects.toThrow('boom')
    const refusal = new TenantResolutionError('TENANT_FORBIDDEN', 'nope')
    expect(refusal.status).toBe(403)
    expect(TenantResolutionError.is(refusal, 'TENANT_FORBIDDEN')).toBe(true)
  })
})
