import { randomUUID } from 'node:crypto'
import { createTenantPool, TenantScopeError, withTenant } from '@tenantscope/core'
import { createDatabase } from '@tenantscope/example-api'
import { setTenantState, type TenantEntry } from '@tenantscope/router'
import { SignJWT } from 'jose'
import pg from 'pg'
import { withClient } from './database.js'
import { expectedTotals, type SeedTenant } from './seed.js'
import { money } from './table.js'

export interface Check {
  step: string
  as: string
  expected: string
  actual: string
  ok: boolean
}

export interface ReportRow {
  tenant: string
  invoices: number
  paid: number
  sent: number
  draft: number
  total: number
  ok: boolean
}

export interface TourContext {
  apiUrl: string
  jwtSecret: string
  tenants: SeedTenant[]
  /** Where each tenant lives, as the setup recorded it in the directory. */
  entries: readonly TenantEntry[]
  appUrl: string
  appRole: string
  adminUrl: string
}

export function sign(secret: string, claims: Record<string, unknown>, expiresIn = '1h'): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret))
}

/**
 * The scripted walk through what tenantscope guarantees. Every check is
 * recorded, pass or fail, so the table shows the whole story; the caller
 * fails the run if any check failed.
 */
export async function runTour(ctx: TourContext): Promise<{ checks: Check[]; reports: ReportRow[] }> {
  const checks: Check[] = []
  const check = (step: string, as: string, expected: string, actual: string, ok: boolean) => checks.push({ step, as, expected, actual, ok })
  const [acme, globex, initech] = ctx.tenants as [SeedTenant, SeedTenant, SeedTenant, ...SeedTenant[]]
  const tokens = new Map<string, string>()
  for (const tenant of ctx.tenants) tokens.set(tenant.id, await sign(ctx.jwtSecret, { tenant_id: tenant.id, sub: tenant.users[0]!.email }))
  const as = (tenant: SeedTenant) => ({ authorization: `Bearer ${tokens.get(tenant.id)}` })
  const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const response = await fetch(`${ctx.apiUrl}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    let json: any
    try {
      json = text ? JSON.parse(text) : undefined
    } catch {
      json = undefined
    }
    return { status: response.status, body: json }
  }
  const short = (name: string) => name.split(' ')[0]!

  // 1. Each tenant lists its projects: the query names no tenant, RLS filters.
  for (const tenant of ctx.tenants) {
    const response = await call('GET', '/projects?limit=100', as(tenant))
    const items: { name: string; tenantId: string }[] = response.body?.items ?? []
    const own = items.every((item) => item.tenantId === tenant.id)
    const names = items.map((item) => item.name).sort()
    const expected = tenant.projects.map((project) => project.name).sort()
    const ok = response.status === 200 && own && JSON.stringify(names) === JSON.stringify(expected)
    check(
      'list projects',
      short(tenant.name),
      `its ${expected.length} projects only`,
      response.status === 200 ? `${items.length} projects${own ? ', all its own' : ', SOME FOREIGN'}` : `HTTP ${response.status}`,
      ok,
    )
  }

  // 2. Cross-tenant read and writes through the API: another tenant's id is a 404.
  const target = globex.projects[0]!
  const read = await call('GET', `/projects/${target.id}`, as(acme))
  check("read another tenant's project", short(acme.name), '404', `${read.status}`, read.status === 404)
  const rename = await call('PATCH', `/projects/${target.id}`, as(acme), { name: 'Pwned by Acme' })
  const after = await call('GET', `/projects/${target.id}`, as(globex))
  check(
    "rename another tenant's project",
    short(acme.name),
    '404, row unchanged',
    `${rename.status}, name "${after.body?.name}"`,
    rename.status === 404 && after.body?.name === target.name,
  )
  const invoice = await call('POST', '/invoices', as(acme), { projectId: target.id, amountCents: 100 })
  check("invoice another tenant's project", short(acme.name), '404', `${invoice.status}`, invoice.status === 404)

  // 3. The same refusals in the database itself, as the application role.
  const pool = createTenantPool({ connectionString: ctx.appUrl, max: 2, application_name: 'tenantscope-demo-tour' })
  pool.on('error', () => undefined) // an idle connection closed by the server is not the tour's concern
  try {
    const smuggle = await withTenant(acme.id, () =>
      pool.query('INSERT INTO projects (tenant_id, name) VALUES ($1, $2)', [globex.id, 'Smuggled']),
    ).then(
      () => 'inserted!',
      (error: { code?: string }) => `refused (${error.code})`,
    )
    check('SQL: insert a row for another tenant', short(acme.name), 'refused by RLS (42501)', smuggle, smuggle === 'refused (42501)')
    const update = await withTenant(acme.id, () => pool.query('UPDATE projects SET name = $1 WHERE id = $2', ['Pwned', target.id]))
    check("SQL: update another tenant's row", short(acme.name), '0 rows', `${update.rowCount} rows`, update.rowCount === 0)
    const outside = await pool.query('SELECT count(*) FROM projects').then(
      () => 'ran!',
      (error: unknown) => (TenantScopeError.is(error) ? (error as TenantScopeError).code : String(error)),
    )
    check('SQL: query without a tenant', 'app', 'TENANT_CONTEXT_MISSING', outside, outside === 'TENANT_CONTEXT_MISSING')
    const raw = new pg.Client({ connectionString: ctx.appUrl })
    await raw.connect()
    const unscoped = await raw.query('SELECT count(*)::int AS n FROM projects').finally(() => raw.end())
    check('SQL: bare pg, no tenant set', 'app', '0 rows (fails closed)', `${unscoped.rows[0].n} rows`, unscoped.rows[0].n === 0)
  } finally {
    await pool.end()
  }

  // 4. Three kinds behind the same routes: each is served where it lives,
  // and no kind reaches another's data, through the API or in SQL.
  for (const tenant of ctx.tenants) {
    const me = await call('GET', '/me', as(tenant))
    const got = me.status === 200 ? `${me.body?.placement?.strategy}, its own row` : `HTTP ${me.status}`
    const ok = me.status === 200 && me.body?.placement?.strategy === tenant.kind && me.body?.tenant?.id === tenant.id
    check('GET /me: where it lives', short(tenant.name), tenant.kind, ok ? got : `${got} (${me.body?.tenant?.name})`, ok)
  }
  for (const [caller, owner] of [
    [globex, initech],
    [initech, acme],
  ] as const) {
    const response = await call('GET', `/projects/${owner.projects[0]!.id}`, as(caller))
    check(
      `read a ${owner.kind} tenant's project`,
      `${short(caller.name)} (${caller.kind})`,
      '404',
      `${response.status}`,
      response.status === 404,
    )
  }
  const globexSchema = ctx.entries.find((e) => e.tenantId === globex.id)?.schema ?? 'tenant_globex'
  const { router } = await createDatabase(ctx.appUrl, { max: 2, applicationName: 'tenantscope-demo-tour' })
  try {
    const outcome = (promise: Promise<unknown>) =>
      promise.then(
        () => 'read!',
        (error: { code?: string }) => `refused (${error.code})`,
      )
    const named = await withTenant(acme.id, () => outcome(router.query(`SELECT * FROM ${globexSchema}.projects`)))
    check(`SQL: name ${globexSchema}.projects`, short(acme.name), 'refused by privileges (42501)', named, named === 'refused (42501)')
    const shared = await withTenant(globex.id, () => outcome(router.query('SELECT * FROM public.projects')))
    check('SQL: name public.projects', short(globex.name), 'refused by privileges (42501)', shared, shared === 'refused (42501)')
  } finally {
    await router.end()
  }
  const stranger = await call('GET', '/projects', { authorization: `Bearer ${await sign(ctx.jwtSecret, { tenant_id: randomUUID() })}` })
  const strangerGot = `${stranger.status} ${stranger.body?.error?.code ?? ''}`.trim()
  check('valid token, tenant not provisioned', 'client', '403 TENANT_UNKNOWN', strangerGot, strangerGot === '403 TENANT_UNKNOWN')
  check('read-only tenant writes', short(initech.name), '409 TENANT_READ_ONLY', ...(await readOnlyWrite(ctx, call, initech, as(initech))))

  // 5. Authentication outcomes.
  const none = await call('GET', '/projects', {})
  check('request without a token', 'anyone', '401', `${none.status}`, none.status === 401)
  const forged = await call('GET', '/projects', {
    authorization: `Bearer ${await sign('a-forged-secret-that-is-long-enough-to-sign', { tenant_id: acme.id })}`,
  })
  check('token signed with another key', 'attacker', '401', `${forged.status}`, forged.status === 401)
  const onlyAcme = await sign(ctx.jwtSecret, { tenants: [acme.id] })
  const forbidden = await call('GET', '/projects', { authorization: `Bearer ${onlyAcme}`, 'x-tenant-id': globex.id })
  check('ask for a tenant the token lacks', short(acme.name), '403', `${forbidden.status}`, forbidden.status === 403)
  const malformed = await call('GET', '/projects', { authorization: `Bearer ${await sign(ctx.jwtSecret, { tenant_id: "acme' OR 1=1" })}` })
  check('malformed tenant id in token', 'client', '400', `${malformed.status}`, malformed.status === 400)

  // 6. A report job per tenant, enqueued through the API, run by the worker.
  const reports: ReportRow[] = []
  const jobs = new Map<string, string>()
  for (const tenant of ctx.tenants) {
    const queued = await call('POST', '/reports', as(tenant), {})
    if (queued.status === 202) jobs.set(tenant.id, queued.body.id)
  }
  for (const tenant of ctx.tenants) {
    const id = jobs.get(tenant.id)
    const job = id ? await waitForReport(call, id, as(tenant)) : undefined
    const report = job?.report
    const want = expectedTotals(tenant)
    const ok =
      report?.tenantId === tenant.id &&
      report.invoiceCount === want.count &&
      report.totals.all === want.all &&
      report.totals.paid === want.paid &&
      report.totals.sent === want.sent
    reports.push({
      tenant: tenant.name,
      invoices: report?.invoiceCount ?? 0,
      paid: report?.totals.paid ?? 0,
      sent: report?.totals.sent ?? 0,
      draft: report?.totals.draft ?? 0,
      total: report?.totals.all ?? 0,
      ok,
    })
    check(
      'report job runs for its tenant',
      short(tenant.name),
      `${want.count} invoices, ${money(want.all)}`,
      report ? `${report.invoiceCount} invoices, ${money(report.totals.all)}` : `job ${job?.state ?? 'not enqueued'}`,
      ok,
    )
  }
  const globexJob = jobs.get(globex.id)
  const peek = globexJob ? await call('GET', `/reports/${globexJob}`, as(acme)) : { status: 0 }
  check("read another tenant's report", short(acme.name), '404', `${peek.status}`, peek.status === 404)

  // 7. Who is connected, and what the audit says. The API's and the worker's
  // routers each keep a directory listener (named `tenantscope-directory:<instance>`)
  // open; their pools' own connections may have gone idle and closed.
  const sessions = await withClient(ctx.adminUrl, (admin) =>
    admin.query<{ rolname: string; rolsuper: boolean; rolbypassrls: boolean; application_name: string }>(
      `SELECT DISTINCT r.rolname, r.rolsuper, r.rolbypassrls, a.application_name
         FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid
        WHERE a.datname = current_database()
          AND (a.application_name IN ('tenantscope-example-api', 'tenantscope-example-worker')
               OR a.application_name LIKE 'tenantscope-directory:%')
        ORDER BY a.application_name`,
    ),
  )
  const roles = [...new Set(sessions.rows.map((row) => row.rolname))]
  const privileged = sessions.rows.filter((row) => row.rolsuper || row.rolbypassrls)
  check(
    'pg_stat_activity: API + worker role',
    'admin',
    'app role only, no super/BYPASSRLS',
    `${roles.join(', ') || 'no sessions'}${privileged.length ? ' PRIVILEGED' : ' (super=f, bypassrls=f)'}`,
    roles.length === 1 && roles[0] === ctx.appRole && privileged.length === 0 && sessions.rows.length >= 2,
  )
  const audit = await withClient(ctx.appUrl, (app) =>
    app.query<{ object_type: string; object_name: string; problem: string }>('SELECT * FROM tenantscope.audit()'),
  )
  const tableProblems = audit.rows.filter((row) => row.object_type === 'table')
  const bypassers = audit.rows.filter((row) => row.problem === 'role_bypasses_rls').map((row) => row.object_name)
  check(
    'tenantscope.audit()',
    'app',
    '0 table problems, app role absent',
    `${tableProblems.length} table problems; app role ${bypassers.includes(ctx.appRole) ? 'PRESENT' : 'absent'}`,
    tableProblems.length === 0 && !bypassers.includes(ctx.appRole),
  )
  return { checks, reports }
}

type Call = (method: string, path: string, headers: Record<string, string>, body?: unknown) => Promise<{ status: number; body: any }>

/**
 * Puts the tenant in the read-only state (as during an export or a move),
 * waits until the API's router has seen it (NOTIFY), tries a write, and
 * makes the tenant active again. Returns what the write got, and whether that is the refusal.
 */
async function readOnlyWrite(
  ctx: TourContext,
  call: Call,
  tenant: SeedTenant,
  headers: Record<string, string>,
): Promise<[string, boolean]> {
  const admin = new pg.Pool({ connectionString: ctx.adminUrl, max: 1 })
  const waitFor = async (state: string) => {
    const deadline = Date.now() + 10_000
    while ((await call('GET', '/me', headers)).body?.placement?.state !== state) {
      if (Date.now() > deadline) throw new Error(`the API never saw the tenant ${state}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  try {
    await setTenantState(admin, tenant.id, 'read_only')
    await waitFor('read_only')
    const write = await call('POST', '/projects', headers, { name: 'Written while read-only' })
    const got = `${write.status} ${write.body?.error?.code ?? ''}`.trim()
    return [got, got === '409 TENANT_READ_ONLY']
  } finally {
    await setTenantState(admin, tenant.id, 'active')
    await waitFor('active').catch(() => undefined)
    await admin.end()
  }
}

async function waitForReport(call: Call, id: string, headers: Record<string, string>): Promise<{ state: string; report: any } | undefined> {
  const deadline = Date.now() + 30_000
  let last: { state: string; report: any } | undefined
  while (Date.now() < deadline) {
    const response = await call('GET', `/reports/${id}`, headers)
    last = response.body
    if (last?.state === 'completed' || last?.state === 'failed') return last
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return last
}
