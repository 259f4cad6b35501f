import { type RunningApi, startApi } from '@tenantscope/example-api'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { JWT_SECRET, type Seeded, seedDatabase, token } from './_fixture.js'

describe('example API: real HTTP, real PostgreSQL, the app role under RLS', () => {
  let seeded: Seeded
  let api: RunningApi
  let acme: { id: string }
  let globex: { id: string }
  const headers: Record<'acme' | 'globex', Record<string, string>> = { acme: {}, globex: {} }

  async function call(method: string, path: string, who: 'acme' | 'globex' | Record<string, string>, body?: unknown) {
    const response = await fetch(`${api.url}${path}`, {
      method,
      headers: { ...(typeof who === 'string' ? headers[who] : who), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    return { status: response.status, body: text ? JSON.parse(text) : undefined, text }
  }

  beforeAll(async () => {
    seeded = await seedDatabase()
    acme = seeded.tenants[0]!
    globex = seeded.tenants[1]!
    headers.acme = { authorization: `Bearer ${await token({ tenant_id: acme.id, sub: 'alice' })}` }
    headers.globex = { authorization: `Bearer ${await token({ tenant_id: globex.id, sub: 'bob' })}` }
    api = await startApi({
      databaseUrl: seeded.db.appUrl,
      queueUrl: seeded.db.adminUrl,
      jwtSecret: JWT_SECRET,
      port: 0,
      log: () => undefined,
    })
  })
  afterAll(async () => {
    await api?.close()
    await seeded?.close()
  })

  test('each tenant lists only its own projects', async () => {
    const a = await call('GET', '/projects', 'acme')
    const g = await call('GET', '/projects', 'globex')
    expect(a.status).toBe(200)
    expect(a.body.items.map((p: { name: string }) => p.name).sort()).toEqual(['Acme Anvil', 'Acme Rocket'])
    expect(a.body.items.every((p: { tenantId: string }) => p.tenantId === acme.id)).toBe(true)
    expect(g.body.items.map((p: { name: string }) => p.name)).toEqual(['Globex Hammock'])
  })

  test('/me shows the caller its own tenant row only', async () => {
    expect(await call('GET', '/me', 'acme')).toMatchObject({
      status: 200,
      body: { tenantId: acme.id, tenant: { id: acme.id, name: 'Acme' } },
    })
  })

  test("create, read, update, delete a project; it belongs to the caller's tenant", async () => {
    const created = await call('POST', '/projects', 'acme', { name: 'Acme Catapult' })
    expect(created).toMatchObject({ status: 201, body: { name: 'Acme Catapult', tenantId: acme.id } })
    const { rows } = await seeded.admin.query('SELECT tenant_id FROM projects WHERE id = $1', [created.body.id])
    expect(rows).toEqual([{ tenant_id: acme.id }])
    expect(await call('GET', `/projects/${created.body.id}`, 'acme')).toMatchObject({ status: 200, body: { name: 'Acme Catapult' } })
    expect(await call('PATCH', `/projects/${created.body.id}`, 'acme', { name: 'Acme Trebuchet' })).toMatchObject({
      status: 200,
      body: { name: 'Acme Trebuchet' },
    })
    expect((await call('DELETE', `/projects/${created.body.id}`, 'acme')).status).toBe(204)
    expect((await call('GET', `/projects/${created.body.id}`, 'acme')).status).toBe(404)
  })

  test("another tenant's project id is a 404 for read, update, delete and invoicing, and nothing changes", async () => {
    const globexProject = (await call('GET', '/projects', 'globex')).body.items[0]
    expect(await call('GET', `/projects/${globexProject.id}`, 'acme')).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND' } },
    })
    expect((await call('PATCH', `/projects/${globexProject.id}`, 'acme', { name: 'pwned' })).status).toBe(404)
    expect((await call('DELETE', `/projects/${globexProject.id}`, 'acme')).status).toBe(404)
    expect((await call('POST', '/invoices', 'acme', { projectId: globexProject.id, amountCents: 1 })).status).toBe(404)
    const { rows } = await seeded.admin.query(
      'SELECT name, (SELECT count(*)::int FROM invoices WHERE project_id = p.id) AS invoices FROM projects p WHERE id = $1',
      [globexProject.id],
    )
    expect(rows).toEqual([{ name: 'Globex Hammock', invoices: 2 }])
    const invoice = (await call('GET', '/invoices', 'globex')).body.items[0]
    expect((await call('GET', `/invoices/${invoice.id}`, 'acme')).status).toBe(404)
    expect((await call('PATCH', `/invoices/${invoice.id}`, 'acme', { status: 'draft' })).status).toBe(404)
  })

  test('pagination: limit/offset pages that neither overlap nor skip, nextOffset null at the end', async () => {
    for (let i = 0; i < 5; i++) expect((await call('POST', '/projects', 'globex', { name: `Globex page ${i}` })).status).toBe(201)
    const seen: string[] = []
    let offset: number | null = 0
    let pages = 0
    while (offset !== null) {
      const page = await call('GET', `/projects?limit=2&offset=${offset}`, 'globex')
      expect(page.status).toBe(200)
      expect(page.body.items.length).toBeLessThanOrEqual(2)
      seen.push(...page.body.items.map((p: { id: string }) => p.id))
      offset = page.body.nextOffset
      pages++
    }
    expect(pages).toBe(3)
    expect(new Set(seen).size).toBe(6)
    expect((await call('GET', '/projects?limit=0', 'globex')).status).toBe(400)
    expect((await call('GET', '/projects?limit=abc', 'globex')).status).toBe(400)
  })

  test('invoices: create for an own project, filter by status, validation', async () => {
    const project = (await call('GET', '/projects', 'acme')).body.items.find((p: { name: string }) => p.name === 'Acme Rocket')
    const created = await call('POST', '/invoices', 'acme', { projectId: project.id, amountCents: 4200, currency: 'USD', status: 'sent' })
    expect(created).toMatchObject({ status: 201, body: { amountCents: 4200, currency: 'USD', tenantId: acme.id } })
    const sent = await call('GET', `/invoices?status=sent&projectId=${project.id}`, 'acme')
    expect(sent.body.items.map((i: { amountCents: number }) => i.amountCents).sort()).toEqual([2500, 4200])
    expect((await call('POST', '/invoices', 'acme', { projectId: project.id, amountCents: -1 })).status).toBe(400)
    expect((await call('GET', '/invoices?status=lost', 'acme')).status).toBe(400)
  })

  test('users: an email is unique per tenant, not across tenants', async () => {
    expect((await call('POST', '/users', 'acme', { email: 'sam@example.com', name: 'Sam A' })).status).toBe(201)
    expect((await call('POST', '/users', 'globex', { email: 'sam@example.com', name: 'Sam G' })).status).toBe(201)
    expect(await call('POST', '/users', 'acme', { email: 'sam@example.com', name: 'Sam again' })).toMatchObject({ status: 409 })
    const list = await call('GET', '/users', 'acme')
    expect(list.body.items.map((u: { name: string }) => u.name)).toEqual(['Sam A'])
  })

  test('authentication: 401 without or with a bad token, 403 for a tenant the token does not grant, 400 for a malformed tenant', async () => {
    const none = await call('GET', '/projects', {})
    expect(none).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } })
    const forged = await call('GET', '/projects', {
      authorization: `Bearer ${await token({ tenant_id: acme.id }, 'another-secret-that-is-32-bytes-or-longer')}`,
    })
    expect(forged.status).toBe(401)
    expect((await call('GET', '/projects', { authorization: `Bearer ${await token({ sub: 'x' })}` })).status).toBe(403)
    expect((await call('GET', '/projects', { authorization: `Bearer ${await token({ tenant_id: 'acme' })}` })).status).toBe(400)
    const acmeOnly = { authorization: `Bearer ${await token({ tenants: [acme.id] })}` }
    expect(await call('GET', '/projects', { ...acmeOnly, 'x-tenant-id': globex.id })).toMatchObject({
      status: 403,
      body: { error: { code: 'TENANT_FORBIDDEN' } },
    })
    const both = { authorization: `Bearer ${await token({ tenants: [acme.id, globex.id] })}` }
    const chosen = await call('GET', '/projects', { ...both, 'x-tenant-id': globex.id })
    expect(chosen.status).toBe(200)
    expect(new Set(chosen.body.items.map((p: { tenantId: string }) => p.tenantId))).toEqual(new Set([globex.id]))
    expect((await call('GET', '/projects', { ...both, 'x-tenant-id': 'globex' })).status).toBe(400)
    for (const response of [none, forged]) expect(response.text).not.toMatch(/\bat \w|node_modules|stack/)
    expect((await call('GET', '/health', {})).status).toBe(200)
  })

  test("reports: enqueued for the caller's tenant; another tenant cannot read the job", async () => {
    const queued = await call('POST', '/reports', 'acme', {})
    expect(queued).toMatchObject({ status: 202, body: { state: 'created' } })
    const own = await call('GET', `/reports/${queued.body.id}`, 'acme')
    expect(own).toMatchObject({ status: 200, body: { id: queued.body.id, state: 'created', report: null } })
    const { rows } = await seeded.admin.query(`SELECT data->>'tenantId' AS tenant FROM pgboss.job WHERE id = $1`, [queued.body.id])
    expect(rows).toEqual([{ tenant: acme.id }])
    expect((await call('GET', `/reports/${queued.body.id}`, 'globex')).status).toBe(404)
  })

  test('the API connects as the application role, which cannot bypass RLS', async () => {
    await call('GET', '/projects', 'acme')
    const { rows } = await seeded.admin.query(
      `SELECT DISTINCT r.rolname, r.rolsuper, r.rolbypassrls FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid
        WHERE a.datname = current_database() AND a.application_name = 'tenantscope-example-api'`,
    )
    expect(rows).toEqual([{ rolname: 'tenantscope_test_app', rolsuper: false, rolbypassrls: false }])
  })
})
