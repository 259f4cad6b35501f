import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createTenantPool, type TenantPool } from '@tenantscope/core'
import { tenantMiddleware } from '@tenantscope/core/express'
import { tenantScope } from '@tenantscope/core/fastify'
import { trustedHeaderTenant } from '@tenantscope/core/http'
import { jwtTenant } from '@tenantscope/core/jwt'
import express from 'express'
import Fastify from 'fastify'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { useFixture } from './_fixtures.js'

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256'
const token = (tenantId: string) =>
  new SignJWT({ tenant_id: tenantId }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode(SECRET))

describe('HTTP middleware over a TenantPool (real PostgreSQL, app role)', () => {
  const fixture = useFixture()
  let pool: TenantPool
  let url = ''
  let server: ReturnType<typeof createServer>
  let gate: { reached: () => void; release: Promise<void> } | undefined

  beforeAll(async () => {
    await fixture.admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'alpha of A'), ($2, 'beta of B')`, [
      fixture.tenantA,
      fixture.tenantB,
    ])
    // One connection, and a short wait for it: a request that held its
    // connection for its lifetime would starve every other request.
    pool = createTenantPool({ connectionString: fixture.db.appUrl, max: 1, connectionTimeoutMillis: 3000 })
    const app = express()
    app.use(express.json())
    app.use(tenantMiddleware({ resolveTenant: jwtTenant({ secret: SECRET }) }))
    app.get('/projects', async (_req, res) => {
      const { rows } = await pool.query('SELECT name FROM projects ORDER BY name')
      res.json(rows.map((row) => row.name))
    })
    app.get('/slow', async (_req, res) => {
      const first = await pool.query('SELECT name FROM projects')
      if (gate) {
        gate.reached()
        await gate.release
      }
      const second = await pool.query('SELECT current_setting($1, true) AS tenant', ['app.current_tenant'])
      res.json({ names: first.rows.map((row) => row.name), tenant: second.rows[0].tenant })
    })
    app.post('/projects', async (req, res) => {
      const { rows } = await pool.query('INSERT INTO projects (name) VALUES ($1) RETURNING tenant_id', [req.body.name])
      res.status(201).json(rows[0])
    })
    server = createServer(app)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve))
    await pool?.end()
  })

  test('each tenant reads only its own rows through RLS', async () => {
    const a = await fetch(`${url}/projects`, { headers: { authorization: `Bearer ${await token(fixture.tenantA)}` } })
    const b = await fetch(`${url}/projects`, { headers: { authorization: `Bearer ${await token(fixture.tenantB)}` } })
    expect(await a.json()).toEqual(['alpha of A'])
    expect(await b.json()).toEqual(['beta of B'])
  })

  test('writes land in the request tenant (column default from the setting)', async () => {
    const response = await fetch(`${url}/projects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token(fixture.tenantB)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'gamma of B' }),
    })
    expect(response.status).toBe(201)
    expect(await response.json()).toEqual({ tenant_id: fixture.tenantB })
    const { rows } = await fixture.admin.query('SELECT tenant_id FROM projects WHERE name = $1', ['gamma of B'])
    expect(rows).toEqual([{ tenant_id: fixture.tenantB }])
  })

  test('no connection is held for the request: with max 1, another request completes while one is paused', async () => {
    let reached!: () => void
    let release!: () => void
    const reachedPromise = new Promise<void>((resolve) => (reached = resolve))
    gate = { reached, release: new Promise<void>((resolve) => (release = resolve)) }
    const slow = fetch(`${url}/slow`, { headers: { authorization: `Bearer ${await token(fixture.tenantA)}` } })
    await reachedPromise
    expect(pool.totalCount - pool.idleCount).toBe(0) // nothing checked out while the request waits
    const other = await fetch(`${url}/projects`, { headers: { authorization: `Bearer ${await token(fixture.tenantB)}` } })
    expect(other.status).toBe(200)
    expect(await other.json()).toContain('beta of B')
    release()
    gate = undefined
    const body = await (await slow).json()
    expect(body).toEqual({ names: ['alpha of A'], tenant: fixture.tenantA })
  })

  test('a refused request runs no query (401 before any connection)', async () => {
    const before = pool.totalCount
    const response = await fetch(`${url}/projects`)
    expect(response.status).toBe(401)
    expect(pool.totalCount).toBe(before)
  })
})

describe('Fastify plugin over a TenantPool, tenant from a trusted internal header', () => {
  const fixture = useFixture()
  const app = Fastify()
  let pool: TenantPool
  let url = ''

  beforeAll(async () => {
    await fixture.admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'only A'), ($2, 'only B')`, [
      fixture.tenantA,
      fixture.tenantB,
    ])
    pool = createTenantPool({ connectionString: fixture.db.appUrl, max: 2 })
    await app.register(tenantScope, { resolveTenant: trustedHeaderTenant() })
    app.get('/projects', async () => (await pool.query('SELECT name FROM projects')).rows.map((row) => row.name))
    url = await app.listen({ port: 0, host: '127.0.0.1' })
  })
  afterAll(async () => {
    await app.close()
    await pool?.end()
  })

  test('each tenant sees its own rows; a malformed id is a 400 and runs nothing', async () => {
    const a = await fetch(`${url}/projects`, { headers: { 'x-tenant-id': fixture.tenantA } })
    const b = await fetch(`${url}/projects`, { headers: { 'x-tenant-id': fixture.tenantB } })
    expect(await a.json()).toEqual(['only A'])
    expect(await b.json()).toEqual(['only B'])
    const bad = await fetch(`${url}/projects`, { headers: { 'x-tenant-id': "' OR 1=1 --" } })
    expect(bad.status).toBe(400)
  })
})
