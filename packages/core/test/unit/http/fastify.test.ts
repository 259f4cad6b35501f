import { getTenantId } from '@tenantscope/core'
import { tenantHook, tenantScope } from '@tenantscope/core/fastify'
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { describeAdapter, resolveTenant, tick } from './_scenario.js'
import { getJson } from './_server.js'

describe('fastify tenantScope plugin', () => {
  const app = Fastify({ bodyLimit: 1_000_000 })
  let url = ''
  beforeAll(async () => {
    await app.register(tenantScope, { resolveTenant })
    app.get('/whoami', async () => {
      await tick()
      return { tenant: getTenantId() }
    })
    app.post('/echo', async (request) => {
      await tick()
      return { tenant: getTenantId(), size: JSON.stringify(request.body).length - 12 }
    })
    url = await app.listen({ port: 0, host: '127.0.0.1' })
  })
  afterAll(() => app.close())

  describeAdapter(() => url)
})

describe('fastify tenantHook on one route', () => {
  const app = Fastify()
  let url = ''
  beforeAll(async () => {
    app.get('/open', async () => ({ open: true }))
    app.get('/whoami', { preHandler: tenantHook({ resolveTenant }) }, async () => ({ tenant: getTenantId() }))
    url = await app.listen({ port: 0, host: '127.0.0.1' })
  })
  afterAll(() => app.close())

  test('only the guarded route needs credentials', async () => {
    expect(await getJson(`${url}/open`)).toMatchObject({ status: 200 })
    expect(await getJson(`${url}/whoami`)).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } })
  })
})
