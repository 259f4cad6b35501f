import { randomUUID } from 'node:crypto'
import type { INestApplication } from '@nestjs/common'
import { APP_ROLE, createTestDatabase, type TestDatabase, withClient } from '@tenantscope/test-harness'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { createApp } from '../src/create-app.js'

const secret = 'nestjs-example-secret-of-enough-length'
const A = randomUUID()
const B = randomUUID()

function token(claims: Record<string, unknown>, key = secret): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(key))
}

describe('NestJS example over real HTTP, as the app role', () => {
  let db: TestDatabase
  let app: INestApplication
  let url: string
  const tokens: Record<string, string> = {}
  const projectOf: Record<string, string> = {}

  beforeAll(async () => {
    db = await createTestDatabase()
    await withClient(db.adminUrl, async (admin) => {
      await admin.query(`INSERT INTO tenants (id, name) VALUES ($1, 'A'), ($2, 'B')`, [A, B])
      for (const tenant of [A, B]) {
        const { rows } = await admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, $2), ($1, $3) RETURNING id`, [
          tenant,
          `${tenant}:1`,
          `${tenant}:2`,
        ])
        projectOf[tenant] = rows[0].id
      }
    })
    tokens[A] = await token({ sub: 'alice', tenant_id: A })
    tokens[B] = await token({ sub: 'bob', tenant_id: B })
    app = await createApp({ databaseUrl: db.appUrl, jwtSecret: secret }, { logger: false })
    await app.listen(0, '127.0.0.1')
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1')
  })

  afterAll(async () => {
    await app?.close()
    await db?.drop()
  })

  const get = (path: string, tenant?: string) =>
    fetch(`${url}${path}`, { headers: tenant ? { authorization: `Bearer ${tokens[tenant]}` } : {} })

  test('each tenant lists only its own projects, with no tenant in any query', async () => {
    for (const tenant of [A, B]) {
      const response = await get('/projects', tenant)
      expect(response.status).toBe(200)
      const projects = (await response.json()) as { tenant_id: string; name: string }[]
      expect(projects.map((p) => p.name)).toEqual([`${tenant}:1`, `${tenant}:2`])
    }
  })

  test("another tenant's project is a 404, its own a 200", async () => {
    expect((await get(`/projects/${projectOf[B]}`, A)).status).toBe(404)
    const own = await get(`/projects/${projectOf[B]}`, B)
    expect(own.status).toBe(200)
    expect(await own.json()).toMatchObject({ id: projectOf[B], tenant_id: B })
  })

  test('POST creates the project for the token’s tenant (column default), visible to it only', async () => {
    const response = await fetch(`${url}/projects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[A]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'created over HTTP' }),
    })
    expect(response.status).toBe(201)
    const created = (await response.json()) as { id: string; tenant_id: string }
    expect(created.tenant_id).toBe(A)
    const { rows } = await withClient(db.adminUrl, (admin) => admin.query('SELECT tenant_id FROM projects WHERE id = $1', [created.id]))
    expect(rows).toEqual([{ tenant_id: A }])
    expect((await get(`/projects/${created.id}`, B)).status).toBe(404)
  })

  test('no token, a forged token and a malformed tenant claim are refused before any query', async () => {
    const none = await get('/projects')
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect(await none.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } })

    const forged = await fetch(`${url}/projects`, {
      headers: { authorization: `Bearer ${await token({ tenant_id: A }, 'another-secret-entirely')}` },
    })
    expect(forged.status).toBe(401)

    const malformed = await fetch(`${url}/projects`, {
      headers: { authorization: `Bearer ${await token({ tenant_id: "x'; DROP TABLE projects; --" })}` },
    })
    expect(malformed.status).toBe(400)
    expect(await malformed.json()).toMatchObject({ error: { code: 'INVALID_TENANT_ID' } })
  })

  test('an excluded route runs without a tenant: the tenant pool refuses there (TENANT_CONTEXT_MISSING)', async () => {
    const response = await get('/health')
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ ok: true, scoped: false })
  })

  test('200 interleaved requests of two tenants never see each other’s rows', async () => {
    const requests = Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? A : B))
    const results = await Promise.all(
      requests.map(async (tenant) => {
        const response = await get('/projects', tenant)
        const projects = (await response.json()) as { tenant_id: string }[]
        return { tenant, status: response.status, tenants: new Set(projects.map((p) => p.tenant_id)) }
      }),
    )
    for (const { tenant, status, tenants } of results) {
      expect(status).toBe(200)
      expect([...tenants]).toEqual([tenant])
    }
  })

  test('the app connects as the app role (not superuser, not BYPASSRLS), and app.close() ends its pool', async () => {
    const backends = () =>
      withClient(
        db.adminUrl,
        async (admin) =>
          (
            await admin.query(
              `SELECT r.rolsuper, r.rolbypassrls FROM pg_stat_activity a JOIN pg_roles r ON r.rolname = a.usename
              WHERE a.datname = current_database() AND a.usename = $1`,
              [APP_ROLE.name],
            )
          ).rows,
      )
    const open = await backends()
    expect(open.length).toBeGreaterThan(0)
    for (const row of open) expect(row).toEqual({ rolsuper: false, rolbypassrls: false })
    await app.close()
    await vi.waitUntil(async () => (await backends()).length === 0, { timeout: 10_000, interval: 50 })
  })
})
