import { createServer } from 'node:http'
import { getRequestListener } from '@hono/node-server'
import { getTenantId } from '@tenantscope/core'
import { tenantMiddleware } from '@tenantscope/core/hono'
import { Hono } from 'hono'
import { beforeAll, describe } from 'vitest'
import { describeAdapter, resolveTenant, tick } from './_scenario.js'
import { listen } from './_server.js'

describe('hono tenantMiddleware', () => {
  let url = ''
  beforeAll(async () => {
    const app = new Hono()
    app.use('*', tenantMiddleware({ resolveTenant }))
    app.get('/whoami', async (c) => {
      await tick()
      return c.json({ tenant: getTenantId() })
    })
    app.post('/echo', async (c) => {
      const body = await c.req.json()
      await tick()
      return c.json({ tenant: getTenantId(), size: JSON.stringify(body).length - 12 })
    })
    url = await listen(createServer(getRequestListener(app.fetch)))
  })

  describeAdapter(() => url)
})
