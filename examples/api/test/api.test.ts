import { randomUUID } from 'node:crypto'
import { withTenant } from '@tenantscope/core'
import { createDatabase, type RunningApi, setupExample, startApi } from '@tenantscope/example-api'
import { setTenantState } from '@tenantscope/router'
import { APP_ROLE, withDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { JWT_SECRET, type Seeded, type SeededTenant, seedDatabase, token } from './_fixture.js'

type Who = 'acme' | 'umbrella' | 'globex' | 'initech'

// Acme and Umbrella live in the shared tables (pool, RLS), Globex in a schema
// of its own, Initech in a database of its own: one API, one router, the same
// route handlers for all of them.
describe('example API: real HTTP, real PostgreSQL, the app role under RLS', () => {
  let seeded: Seeded
  let api: RunningApi
  let acme: SeededTenant
  let globex: SeededTenant
  const headers: Record<Who, Record<string, string>> = { acme: {}, umbrella: {}, globex: {}, initech: {} }

  async function call(method: string, path: string, who: Who | Record<string, string>, body?: unknown) {
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
    acme = seeded.tenants.find((t) => t.name === 'Acme')!
    globex = seeded.tenants.find((t) => t.name === 'Globex')!
    for (const tenant of seeded.tenants) {
      headers[tenant.key as Who] = { authorization: `Bearer ${await token({ tenant_id: tenant.id, sub: `user-of-${tenant.key}` })}` }
    }
    // The default resolver: the app role's own login on the tenant's database.
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
    const { rows } = await globex.admin.query(
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

  test('the API connects as the application role, which cannot bypass RLS, on the primary and on a tenant database', async () => {
    await call('GET', '/projects', 'acme')
    await call('GET', '/projects', 'initech')
    const initech = seeded.tenants.find((t) => t.name === 'Initech')!
    const sessions = `SELECT DISTINCT r.rolname, r.rolsuper, r.rolbypassrls FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid
        WHERE a.datname = $1 AND a.application_name = 'tenantscope-example-api'`
    const expected = [{ rolname: APP_ROLE.name, rolsuper: false, rolbypassrls: false }]
    expect((await seeded.admin.query(sessions, [seeded.db.name])).rows).toEqual(expected)
    expect((await seeded.admin.query(sessions, [initech.entry.database])).rows).toEqual(expected)
  })
})

describe('example API: tenants of every kind behind the same routes', () => {
  let seeded: Seeded
  let api: RunningApi
  const resolved: string[] = []
  const auth = new Map<string, Record<string, string>>()
  const byName = (name: string) => seeded.tenants.find((t) => t.name === name)!

  async function call(method: string, path: string, who: SeededTenant | Record<string, string>, body?: unknown) {
    const response = await fetch(`${api.url}${path}`, {
      method,
      headers: {
        ...('id' in who ? auth.get(who.id as string) : who),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers }
  }
  const projectNames = async (tenant: SeededTenant) =>
    (await tenant.admin.query<{ name: string }>('SELECT name FROM projects ORDER BY name')).rows.map((r) => r.name)

  beforeAll(async () => {
    seeded = await seedDatabase()
    for (const tenant of seeded.tenants) auth.set(tenant.id, { authorization: `Bearer ${await token({ tenant_id: tenant.id })}` })
    api = await startApi({
      databaseUrl: seeded.db.appUrl,
      // The app's own resolver: the directory holds only the database's name.
      tenantDatabaseUrl: (database) => {
        resolved.push(database)
        return withDatabase(seeded.db.adminUrl, database, APP_ROLE)
      },
      jwtSecret: JWT_SECRET,
      port: 0,
      log: () => undefined,
    })
  })
  afterAll(async () => {
    await api?.close()
    await seeded?.close()
  })

  test('the setup made one tenant of each kind where its kind says', async () => {
    const kinds = new Map(seeded.setup.tenants.map((t) => [t.name, t.strategy]))
    expect(kinds).toEqual(
      new Map([
        ['Acme', 'pool'],
        ['Umbrella', 'pool'],
        ['Globex', 'schema'],
        ['Initech', 'database'],
      ]),
    )
    const globex = byName('Globex').entry
    const initech = byName('Initech').entry
    const { rows } = await seeded.admin.query(
      `SELECT (SELECT count(*)::int FROM pg_namespace WHERE nspname = $1) AS schemas,
              (SELECT count(*)::int FROM pg_database WHERE datname = $2) AS databases,
              (SELECT rolcanlogin FROM pg_roles WHERE rolname = $3) AS schema_role_logs_in`,
      [globex.schema, initech.database, globex.role],
    )
    expect(rows).toEqual([{ schemas: 1, databases: 1, schema_role_logs_in: false }])
    // The tenant schema and database were made from the app's migrations, tracked per target.
    expect((await byName('Globex').admin.query('SELECT name FROM tenantscope_migrations')).rows).toEqual([{ name: '0001_example_schema' }])
    expect((await byName('Initech').admin.query('SELECT name FROM tenantscope_migrations ORDER BY name')).rows).toContainEqual({
      name: '0001_example_schema',
    })
  })

  test("each kind's tenant reads and writes its own data through the same routes", async () => {
    for (const tenant of seeded.tenants) {
      const me = await call('GET', '/me', tenant)
      expect(me).toMatchObject({
        status: 200,
        body: { tenantId: tenant.id, tenant: { id: tenant.id, name: tenant.name }, placement: { strategy: tenant.kind, state: 'active' } },
      })
      const list = await call('GET', '/projects', tenant)
      expect(list.status).toBe(200)
      expect(list.body.items.map((p: { name: string }) => p.name).sort()).toEqual([...tenant.projects].sort())
      expect(list.body.items.every((p: { tenantId: string }) => p.tenantId === tenant.id)).toBe(true)

      const created = await call('POST', '/projects', tenant, { name: `${tenant.name} New` })
      expect(created).toMatchObject({ status: 201, body: { name: `${tenant.name} New`, tenantId: tenant.id } })
      const invoice = await call('POST', '/invoices', tenant, { projectId: created.body.id, amountCents: 700 })
      expect(invoice).toMatchObject({ status: 201, body: { tenantId: tenant.id, amountCents: 700 } })
      expect((await call('PATCH', `/projects/${created.body.id}`, tenant, { name: `${tenant.name} Renamed` })).status).toBe(200)
      // The row is where the tenant lives, and nowhere else.
      expect(await projectNames(tenant)).toContain(`${tenant.name} Renamed`)
      for (const other of seeded.tenants) {
        if (other.entry.schema === tenant.entry.schema && other.entry.database === tenant.entry.database) continue
        expect(await projectNames(other)).not.toContain(`${tenant.name} Renamed`)
      }
      expect((await call('DELETE', `/projects/${created.body.id}`, tenant)).status).toBe(204)
    }
    // The database tenant's credentials came from the app's resolver.
    expect(resolved).toContain(byName('Initech').entry.database)
  })

  test("another tenant's ids are a 404 whatever the kind of either tenant, and nothing changes", async () => {
    const firstProject = async (tenant: SeededTenant) =>
      (await tenant.admin.query<{ id: string }>('SELECT id FROM projects WHERE tenant_id = $1 ORDER BY name LIMIT 1', [tenant.id])).rows[0]!
        .id
    for (const caller of seeded.tenants) {
      for (const owner of seeded.tenants) {
        if (owner === caller) continue
        const id = await firstProject(owner)
        const before = await projectNames(owner)
        expect((await call('GET', `/projects/${id}`, caller)).status, `${caller.name} → ${owner.name}`).toBe(404)
        expect((await call('PATCH', `/projects/${id}`, caller, { name: 'pwned' })).status).toBe(404)
        expect((await call('DELETE', `/projects/${id}`, caller)).status).toBe(404)
        expect((await call('POST', '/invoices', caller, { projectId: id, amountCents: 1 })).status).toBe(404)
        expect((await call('GET', `/invoices?projectId=${id}`, caller)).body.items).toEqual([])
        expect(await projectNames(owner)).toEqual(before)
      }
    }
  })

  test("naming another tenant's schema is refused by privileges, for every kind (direct router queries as the app role)", async () => {
    const { router } = await createDatabase(seeded.db.appUrl, {
      tenantDatabaseUrl: (database) => withDatabase(seeded.db.adminUrl, database, APP_ROLE),
      applicationName: 'tenantscope-example-api-attack',
    })
    const globex = byName('Globex')
    const code = (promise: Promise<unknown>) =>
      promise.then(
        () => 'read!',
        (error: { code?: string }) => error.code,
      )
    try {
      const other = `${globex.entry.schema}.projects`
      // A pool tenant, a database tenant: the schema is out of reach, or not there at all.
      expect(await withTenant(byName('Acme').id, () => code(router.query(`SELECT * FROM ${other}`)))).toBe('42501')
      expect(await withTenant(byName('Initech').id, () => code(router.query(`SELECT * FROM ${other}`)))).toBe('42P01')
      // The schema tenant reaches neither the shared tables nor a schema it was not given.
      expect(await withTenant(globex.id, () => code(router.query('SELECT * FROM public.projects')))).toBe('42501')
      expect(await withTenant(globex.id, () => code(router.query('SELECT * FROM public.tenants')))).toBe('42501')
      // Its own schema, named or not, holds its rows only.
      const own = await withTenant(globex.id, () => router.query<{ tenant_id: string }>(`SELECT tenant_id FROM ${other}`))
      expect(own.rows.length).toBeGreaterThan(0)
      expect(own.rows.every((row) => row.tenant_id === globex.id)).toBe(true)
    } finally {
      await router.end()
    }
  })

  test('an unknown tenant (a valid token, no directory entry) is a 403 TENANT_UNKNOWN, never the shared tables', async () => {
    const stranger = { authorization: `Bearer ${await token({ tenant_id: randomUUID() })}` }
    for (const [method, path, body] of [
      ['GET', '/projects', undefined],
      ['POST', '/projects', { name: 'Stranger' }],
      ['GET', '/me', undefined],
    ] as const) {
      const response = await call(method, path, stranger, body)
      expect(response).toMatchObject({ status: 403, body: { error: { code: 'TENANT_UNKNOWN' } } })
    }
    expect((await seeded.admin.query(`SELECT count(*)::int AS n FROM projects WHERE name = 'Stranger'`)).rows).toEqual([{ n: 0 }])
  })

  test('a read-only tenant of any kind reads, and its writes are a 409 TENANT_READ_ONLY with nothing written', async () => {
    const owner = new pg.Pool({ connectionString: seeded.db.adminUrl, max: 1 })
    const state = async (tenant: SeededTenant) => (await call('GET', '/me', tenant)).body.placement.state
    try {
      for (const tenant of [byName('Acme'), byName('Globex'), byName('Initech')]) {
        await setTenantState(owner, tenant.id, 'read_only')
        // Every instance drops the entry on NOTIFY: wait for this API to see it.
        await expect.poll(() => state(tenant)).toBe('read_only')
        const before = await projectNames(tenant)
        expect(await call('POST', '/projects', tenant, { name: 'While read-only' })).toMatchObject({
          status: 409,
          body: { error: { code: 'TENANT_READ_ONLY' } },
        })
        const project = (await call('GET', '/projects', tenant)).body.items[0]
        expect(project).toBeDefined()
        // A write inside an explicit transaction, and an update, are refused alike.
        expect((await call('POST', '/invoices', tenant, { projectId: project.id, amountCents: 1 })).body.error?.code).toBe(
          'TENANT_READ_ONLY',
        )
        expect((await call('PATCH', `/projects/${project.id}`, tenant, { name: 'x' })).status).toBe(409)
        expect(await projectNames(tenant)).toEqual(before)

        await setTenantState(owner, tenant.id, 'active')
        await expect.poll(() => state(tenant)).toBe('active')
        expect((await call('POST', '/projects', tenant, { name: 'After read-only' })).status).toBe(201)
      }
    } finally {
      await owner.end()
    }
  })

  test('the setup is idempotent: a rerun creates nothing, migrates nothing, keeps the data', async () => {
    const before = await Promise.all(seeded.tenants.map(projectNames))
    const again = await setupExample({
      adminUrl: seeded.db.adminUrl,
      appRole: APP_ROLE.name,
      tenants: seeded.tenants.map(({ id, name, kind, key }) => ({ id, name, kind, key })),
    })
    expect(again.tenants.map((t) => t.created)).toEqual([false, false, false, false])
    expect(again.migrations).toMatchObject({ ok: true, targets: 2, upToDate: 2, migrated: [] })
    expect(await Promise.all(seeded.tenants.map(projectNames))).toEqual(before)
    // A tenant asked for as another kind is refused, not silently moved.
    await expect(
      setupExample({ adminUrl: seeded.db.adminUrl, appRole: APP_ROLE.name, tenants: [{ ...seeded.tenants[0]!, kind: 'schema' }] }),
    ).rejects.toThrow(/exists as a pool tenant/)
  })

  test('the directory holds where tenants live, never credentials', async () => {
    const { rows } = await seeded.admin.query(`SELECT row_to_json(d)::text AS row FROM tenantscope.tenant_directory d`)
    expect(rows).toHaveLength(4)
    for (const { row } of rows) {
      expect(row).not.toContain(APP_ROLE.password)
      expect(row).not.toMatch(/postgres(ql)?:\/\//)
    }
  })
})
