import { createServer } from 'node:http'
import { getTenantId, tryGetTenantId } from '@tenantscope/core'
import { tenantMiddleware } from '@tenantscope/core/express'
import express from 'express'
import { beforeAll, describe, expect, test } from 'vitest'
import { describeAdapter, resolveTenant, tick } from './_scenario.js'
import { getJson, listen } from './_server.js'

describe('express tenantMiddleware', () => {
  let url = ''
  beforeAll(async () => {
    const app = express()
    app.use(express.json({ limit: '1mb' }))
    app.get('/public', (_req, res) => {
      res.json({ tenant: tryGetTenantId() ?? null })
    })
    app.use(tenantMiddleware({ resolveTenant }))
    app.get('/whoami', async (_req, res) => {
      await tick()
      res.json({ tenant: getTenantId() })
    })
    app.post('/echo', async (req, res) => {
      await tick()
      res.json({ tenant: getTenantId(), size: JSON.stringify(req.body).length - 12 })
    })
    url = await listen(createServer(app))
  })

  describeAdapter(() => url)

  test('routes registered before the middleware run without a tenant', async () => {
    expect(await getJson(`${url}/public`)).toMatchObject({ status: 200, body: { tenant: null } })
  })

  test('a resolver that crashes goes to the error handler (500), not to the route', async () => {
    const app = express()
    let reached = false
    app.use(tenantMiddleware({ resolveTenant: () => Promise.reject(new Error('jwks down')) }))
    app.get('/', (_req, res) => {
      reached = true
      res.end()
    })
    app.use((_error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).json({ error: 'internal' })
    })
    const crashUrl = await listen(createServer(app))
    expect(await getJson(crashUrl)).toMatchObject({ status: 500, body: { error: 'internal' } })
    expect(reached).toBe(false)
  })

  test('refuses a missing resolver at setup', () => {
    expect(() => tenantMiddleware({} as never)).toThrow(/resolveTenant/)
  })
})
