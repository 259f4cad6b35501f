import { createServer } from 'node:http'
import { getRequestListener } from '@hono/node-server'
import { TenantOverloadError, TenantScopeError } from '@tenantscope/core'
import { tenantErrorHandler as expressErrorHandler, tenantMiddleware as expressMiddleware } from '@tenantscope/core/express'
import { tenantErrorHandler as fastifyErrorHandler, tenantScope } from '@tenantscope/core/fastify'
import { tenantMiddleware as honoMiddleware } from '@tenantscope/core/hono'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { resolveTenant } from './_scenario.js'
import { getJson, listen } from './_server.js'
import { A, sign } from './_tokens.js'

// What a route that hits the fair queue's limit answers, in each framework:
// 429 with Retry-After for TENANT_OVERLOADED, and other errors untouched.
const overloaded = () => new TenantOverloadError('queue_full', 3)
const other = () => new TenantScopeError('TENANT_MISMATCH', 'not an overload')

function describeOverload(name: string, baseUrl: () => string, otherStatus: number): void {
  describe(name, () => {
    test('TENANT_OVERLOADED → 429 with Retry-After and a JSON body, no stack', async () => {
      const response = await getJson(`${baseUrl()}/overloaded`, { headers: { authorization: `Bearer ${await sign({ tenant_id: A })}` } })
      expect(response.status).toBe(429)
      expect(response.headers.get('retry-after')).toBe('3')
      expect(response.headers.get('content-type')).toMatch(/^application\/json/)
      expect(response.body).toEqual({ error: { code: 'TENANT_OVERLOADED', message: 'Too many requests for this tenant: retry later' } })
      expect(response.text).not.toMatch(/at .*\.(js|ts)/)
    })

    test('any other error keeps its usual handling', async () => {
      const response = await getJson(`${baseUrl()}/other`, { headers: { authorization: `Bearer ${await sign({ tenant_id: A })}` } })
      expect(response.status).toBe(otherStatus)
      expect(response.headers.get('retry-after')).toBeNull()
    })
  })
}

let expressUrl = ''
let fastifyUrl = ''
let honoUrl = ''
const fastify = Fastify()
beforeAll(async () => {
  const app = express()
  app.use(expressMiddleware({ resolveTenant }))
  app.get('/overloaded', async () => {
    throw overloaded()
  })
  app.get('/other', async () => {
    throw other()
  })
  app.use(expressErrorHandler())
  expressUrl = await listen(createServer(app))

  await fastify.register(tenantScope, { resolveTenant })
  fastify.setErrorHandler(fastifyErrorHandler())
  fastify.get('/overloaded', async () => {
    throw overloaded()
  })
  fastify.get('/other', async () => {
    throw other()
  })
  fastifyUrl = await fastify.listen({ port: 0, host: '127.0.0.1' })

  const hono = new Hono()
  hono.use('*', honoMiddleware({ resolveTenant }))
  hono.get('/overloaded', () => {
    throw overloaded()
  })
  hono.get('/other', () => {
    throw other()
  })
  honoUrl = await listen(createServer(getRequestListener(hono.fetch)))
})
afterAll(() => fastify.close())

describeOverload('express tenantErrorHandler', () => expressUrl, 500)
describeOverload('fastify tenantErrorHandler', () => fastifyUrl, 500)
describeOverload('hono tenantMiddleware', () => honoUrl, 500)
