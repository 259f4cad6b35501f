import { jwtTenant } from '@tenantscope/core/jwt'
import { expect, test } from 'vitest'
import { getJson } from './_server.js'
import { A, B, SECRET, sign } from './_tokens.js'

/** One resolver for every framework: a JWT with tenant_id, or tenants + x-tenant-id. */
export const resolveTenant = jwtTenant<any>({
  secret: SECRET,
  tenantsClaim: 'tenants',
  requestedTenant: (req) => {
    const value =
      typeof req.headers?.get === 'function'
        ? req.headers.get('x-tenant-id')
        : req.req?.header
          ? req.req.header('x-tenant-id')
          : req.headers?.['x-tenant-id']
    return value ?? undefined
  },
})

/**
 * The same assertions against every adapter. The app under test must serve
 * GET /whoami and POST /echo, each answering `{ tenant: getTenantId() }`
 * read after an await (and, for POST, after the body was parsed).
 */
export function describeAdapter(baseUrl: () => string): void {
  const auth = async (claims: Record<string, unknown>, extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${await sign(claims)}`,
    ...extra,
  })

  test('the handler runs in the tenant context, across awaits', async () => {
    const response = await getJson(`${baseUrl()}/whoami`, { headers: await auth({ tenant_id: A }) })
    expect(response).toMatchObject({ status: 200, body: { tenant: A } })
  })

  test('POST with a JSON body keeps the context after body parsing', async () => {
    const response = await getJson(`${baseUrl()}/echo`, {
      method: 'POST',
      headers: { ...(await auth({ tenant_id: B })), 'content-type': 'application/json' },
      body: JSON.stringify({ hello: 'world'.repeat(10_000) }),
    })
    expect(response).toMatchObject({ status: 200, body: { tenant: B, size: 50_000 } })
  })

  test('concurrent requests for different tenants never see each other', async () => {
    const [tokenA, tokenB] = await Promise.all([auth({ tenant_id: A }), auth({ tenant_id: B })])
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => getJson(`${baseUrl()}/whoami`, { headers: i % 2 ? tokenB : tokenA })),
    )
    responses.forEach((response, i) => expect(response.body).toEqual({ tenant: i % 2 ? B : A }))
  })

  test('no credentials → 401 JSON, with WWW-Authenticate, no stack', async () => {
    const response = await getJson(`${baseUrl()}/whoami`)
    expect(response.status).toBe(401)
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    expect(response.headers.get('www-authenticate')).toBe('Bearer')
    expect(response.body).toEqual({ error: { code: 'UNAUTHENTICATED', message: 'Authentication required' } })
    expect(response.text).not.toMatch(/at .*\.(js|ts)/)
  })

  test('a bad token → 401; a tenant the token does not grant → 403; a malformed tenant → 400', async () => {
    const bad = await getJson(`${baseUrl()}/whoami`, { headers: { authorization: 'Bearer not.a.jwt' } })
    expect(bad).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } })
    const forbidden = await getJson(`${baseUrl()}/whoami`, { headers: await auth({ tenants: [A] }, { 'x-tenant-id': B }) })
    expect(forbidden).toMatchObject({ status: 403, body: { error: { code: 'TENANT_FORBIDDEN' } } })
    const malformed = await getJson(`${baseUrl()}/whoami`, { headers: await auth({ tenant_id: 'acme' }) })
    expect(malformed).toMatchObject({ status: 400, body: { error: { code: 'INVALID_TENANT_ID' } } })
    for (const response of [bad, forbidden, malformed]) {
      expect(Object.keys(response.body)).toEqual(['error'])
      expect(Object.keys(response.body.error).sort()).toEqual(['code', 'message'])
      expect(response.text).not.toContain(B)
    }
  })

  test('a tenant granted by the tenants claim and chosen by header is used', async () => {
    const response = await getJson(`${baseUrl()}/whoami`, { headers: await auth({ tenants: [A, B] }, { 'x-tenant-id': B }) })
    expect(response).toMatchObject({ status: 200, body: { tenant: B } })
  })
}

/**
 * One turn of the event loop, so that a handler reads the tenant after a
 * real asynchronous boundary (a macrotask, as I/O would be), without a timer
 * whose length means nothing.
 */
export const tick = () => new Promise<void>((resolve) => setImmediate(resolve))
