import { createServer } from 'node:http'
import { getTenantId } from '@tenantscope/core'
import { tenantMiddleware } from '@tenantscope/core/express'
import express from 'express'
import { beforeAll, describe, expect, test } from 'vitest'
import { resolveTenant } from './_scenario.js'
import { getJson, listen } from './_server.js'
import { B, sign } from './_tokens.js'

describe('express: body parser registered after tenantMiddleware', () => {
  let url = ''
  beforeAll(async () => {
    const app = express()
    app.use(tenantMiddleware({ resolveTenant }))
    app.use(express.json({ limit: '1mb' }))
    app.post('/echo', (req, res) => {
      res.json({ tenant: getTenantId(), size: JSON.stringify(req.body).length })
    })
    url = await listen(createServer(app))
  })

  test('the route still runs in the tenant context after the body streamed in', async () => {
    const response = await getJson(`${url}/echo`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await sign({ tenant_id: B })}`, 'content-type': 'application/json' },
      body: JSON.stringify({ hello: 'world'.repeat(50_000) }),
    })
    expect(response).toMatchObject({ status: 200, body: { tenant: B } })
  })
})
