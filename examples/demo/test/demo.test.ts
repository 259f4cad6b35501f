import { type ChildProcess, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, withClient } from '@tenantscope/test-harness'
import { describe, expect, inject, test } from 'vitest'

const demoDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const tsx = join(demoDir, 'node_modules', '.bin', 'tsx')
// The demo runs from source, as `pnpm demo` does: the workspace packages resolve to src, no build first.
const FROM_SOURCE = '--conditions=@tenantscope/source'

interface Run {
  child: ChildProcess
  output: () => string
  exit: Promise<number | null>
}

function startDemo(args: string[], env: Record<string, string | undefined>): Run {
  const childEnv: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', ...env }
  for (const [key, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[key]
  const child = spawn(tsx, [FROM_SOURCE, 'src/main.ts', ...args], { cwd: demoDir, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, output: () => output, exit }
}

async function waitFor(run: Run, pattern: RegExp, ms = 120_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + ms
  for (;;) {
    const match = run.output().match(pattern)
    if (match) return match
    if (run.child.exitCode !== null || Date.now() > deadline) throw new Error(`demo never printed ${pattern}:\n${run.output()}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const serverUrl = () => inject('tenantscope').adminUrl

// Everything a run makes on the server carries its suffix: its database and
// the Initech tenant's database; the app role and the Globex tenant's role.
async function demoLeftovers(suffix: string): Promise<{ databases: number; roles: number }> {
  return withClient(serverUrl(), async (admin) => {
    const { rows } = await admin.query(
      `SELECT (SELECT count(*)::int FROM pg_database WHERE starts_with(datname, $1)) AS databases,
              (SELECT count(*)::int FROM pg_roles WHERE rolname = $2 OR starts_with(rolname, $1)) AS roles`,
      [`tenantscope_demo_${suffix}`, `tenantscope_demo_app_${suffix}`],
    )
    return rows[0]
  })
}

/** Runs the DROP statements that --keep printed: they must remove everything. */
async function dropAsPrinted(output: string, suffix: string): Promise<void> {
  const statements = [...output.matchAll(/^ {2}(DROP (?:DATABASE|ROLE) [^;]+);$/gm)].map((m) => m[1]!)
  expect(statements.length).toBe(4)
  await withClient(serverUrl(), async (admin) => {
    for (const statement of statements) await admin.query(statement)
  })
  expect(await demoLeftovers(suffix)).toEqual({ databases: 0, roles: 0 })
}

function expectFullTour(output: string): void {
  expect(output).toContain('✓ all 29 checks passed')
  expect(output).not.toContain('✗')
  for (const line of [
    /│ 1 +│ list projects +│ Acme +│ its 3 projects only +│ 3 projects, all its own +│ ✓ │/,
    /│ read another tenant's project +│ Acme +│ 404 +│ 404 +│ ✓ │/,
    /│ SQL: insert a row for another tenant +│ Acme +│ refused by RLS \(42501\) +│ refused \(42501\) +│ ✓ │/,
    /│ request without a token +│ anyone +│ 401 +│ 401 +│ ✓ │/,
    /│ report job runs for its tenant +│ Globex +│ 3 invoices, EUR 35,450.00 +│ 3 invoices, EUR 35,450.00 +│ ✓ │/,
    /│ pg_stat_activity: API \+ worker role .*\(super=f, bypassrls=f\) +│ ✓ │/,
    /│ Initech +│ 4 +│ EUR 3,000.00 +│ EUR 1,499.99 +│ EUR 0.00 +│ EUR 4,499.99 +│ ✓ │/,
    // One tenant of each kind, behind the same API.
    /│ Acme Corporation +│ pool +│ shared tables, RLS +│/,
    /│ Globex Inc\. +│ schema +│ schema tenant_globex, its own role +│/,
    /│ Initech +│ database +│ database tenantscope_demo_[0-9a-f]{8}_initech +│/,
    /│ GET \/me: where it lives +│ Acme +│ pool +│ pool, its own row +│ ✓ │/,
    /│ GET \/me: where it lives +│ Globex +│ schema +│ schema, its own row +│ ✓ │/,
    /│ GET \/me: where it lives +│ Initech +│ database +│ database, its own row +│ ✓ │/,
    /│ report job runs for its tenant +│ Initech +│ 4 invoices, EUR 4,499.99 +│ 4 invoices, EUR 4,499.99 +│ ✓ │/,
    /│ SQL: name tenant_globex\.projects +│ Acme +│ refused by privileges \(42501\) +│ refused \(42501\) +│ ✓ │/,
    /│ SQL: name public\.projects +│ Globex +│ refused by privileges \(42501\) +│ refused \(42501\) +│ ✓ │/,
    /│ valid token, tenant not provisioned +│ client +│ 403 TENANT_UNKNOWN +│ 403 TENANT_UNKNOWN +│ ✓ │/,
    /│ read-only tenant writes +│ Initech +│ 409 TENANT_READ_ONLY +│ 409 TENANT_READ_ONLY +│ ✓ │/,
  ]) {
    expect(output).toMatch(line)
  }
}

describe('pnpm demo', () => {
  test('runs the whole tour against DATABASE_URL, exits 0 and drops its database and role', async () => {
    const run = startDemo([], { DATABASE_URL: serverUrl() })
    const code = await run.exit
    const output = run.output()
    expect(code, output).toBe(0)
    expectFullTour(output)
    expect(output).toContain('Cleaned up: the demo database and role are gone.')
    const suffix = output.match(/tenantscope_demo_app_([0-9a-f]{8})/)![1]!
    expect(await demoLeftovers(suffix)).toEqual({ databases: 0, roles: 0 })
  })

  test('starts embedded PostgreSQL when no DATABASE_URL is set, with progress, and stops it', async () => {
    const run = startDemo([], { DATABASE_URL: undefined, TEST_DATABASE_URL: undefined })
    const code = await run.exit
    const output = run.output()
    expect(code, output).toBe(0)
    expect(output).toMatch(/… Starting embedded PostgreSQL/)
    expect(output).toMatch(/✓ Starting embedded PostgreSQL .* \d+\.\ds/)
    expectFullTour(output)
  })

  test('--keep leaves the API running with working curl tokens until Ctrl+C, and keeps the database', async () => {
    const run = startDemo(['--keep'], { DATABASE_URL: serverUrl() })
    try {
      const [, token] = await waitFor(run, /export ACME_TOKEN=(\S+)/)
      const [, url] = await waitFor(run, /curl -s '(http:\/\/127\.0\.0\.1:\d+)\/projects\?limit=2'/)
      const [, foreign] = await waitFor(run, /curl -s -i (http:\/\/\S+\/projects\/[0-9a-f-]{36}) -H/)
      const projects = await fetch(`${url}/projects?limit=2`, { headers: { authorization: `Bearer ${token}` } })
      expect(projects.status).toBe(200)
      expect(((await projects.json()) as { items: unknown[] }).items).toHaveLength(2)
      expect((await fetch(foreign!, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404)
      expect((await fetch(`${url}/projects`)).status).toBe(401)
      // The printed tokens reach the tenant of each kind through the same API.
      const [, initechToken] = await waitFor(run, /export INITECH_TOKEN=(\S+)/)
      const me = await fetch(`${url}/me`, { headers: { authorization: `Bearer ${initechToken}` } })
      expect(await me.json()).toMatchObject({ tenant: { name: 'Initech' }, placement: { strategy: 'database', state: 'active' } })
      run.child.kill('SIGINT')
      expect(await run.exit).toBe(0)
      const suffix = run.output().match(/tenantscope_demo_app_([0-9a-f]{8})/)![1]!
      expect(run.output()).toContain(`DROP DATABASE IF EXISTS tenantscope_demo_${suffix} WITH (FORCE);`)
      expect(await demoLeftovers(suffix)).toEqual({ databases: 2, roles: 2 })
      await expect(fetch(`${url}/health`)).rejects.toThrow()
      await dropAsPrinted(run.output(), suffix)
    } finally {
      run.child.kill('SIGKILL')
    }
  })

  test('Ctrl+C during the run stops everything it started, drops its database and role, exits 130', async () => {
    const run = startDemo([], { DATABASE_URL: serverUrl() })
    const [, suffix] = await waitFor(run, /application role tenantscope_demo_app_([0-9a-f]{8})/)
    expect((await demoLeftovers(suffix!)).databases).toBeGreaterThanOrEqual(1)
    run.child.kill('SIGINT')
    expect(await run.exit, run.output()).toBe(130)
    expect(run.output()).toContain('Cleaned up.')
    // The step in flight ends; none starts after it (the API is two steps later).
    expect(run.output()).not.toContain('Starting the API')
    expect(await demoLeftovers(suffix!)).toEqual({ databases: 0, roles: 0 })
  })

  test('Ctrl+C during the tour lets it end, then stops the API and the worker and drops everything, exits 130', async () => {
    // The tour's connections run until it ends: the cleanup's DROP DATABASE … WITH (FORCE) must not kill them under it.
    const run = startDemo([], { DATABASE_URL: serverUrl() })
    const [, suffix] = await waitFor(run, /application role tenantscope_demo_app_([0-9a-f]{8})/)
    await waitFor(run, /… Running the tour/)
    run.child.kill('SIGINT')
    expect(await run.exit, run.output()).toBe(130)
    expect(run.output()).toContain('Cleaned up.')
    expect(run.output()).not.toContain('checks passed')
    expect(await demoLeftovers(suffix!)).toEqual({ databases: 0, roles: 0 })
  })

  test('exits non-zero with a clear message when DATABASE_URL cannot be reached', async () => {
    const port = await freePort()
    const run = startDemo([], { DATABASE_URL: `postgres://postgres:secret-password@127.0.0.1:${port}/postgres` })
    expect(await run.exit).toBe(1)
    expect(run.output()).toMatch(/✗ demo failed: cannot connect to DATABASE_URL: ECONNREFUSED/)
    expect(run.output()).not.toContain('secret-password')
    expect(run.output()).not.toMatch(/\n\s+at /) // no stack trace
  })

  test('`pnpm demo --keep`, stopped by Ctrl+C to the whole process group as a terminal sends it, exits 0 without a pnpm error', async () => {
    // Through pnpm itself, as a user runs it: pnpm forwards SIGINT to its script's shell, which
    // used to die of it and make pnpm report ERR_PNPM_RECURSIVE_RUN_FIRST_FAIL / ELIFECYCLE.
    const root = join(demoDir, '..', '..')
    const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', DATABASE_URL: serverUrl() }
    const child = spawn('pnpm', ['demo', '--keep'], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout!.on('data', (chunk) => (output += chunk))
    child.stderr!.on('data', (chunk) => (output += chunk))
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    const run: Run = { child, output: () => output, exit }
    try {
      await waitFor(run, /export ACME_TOKEN=/)
      process.kill(-child.pid!, 'SIGINT')
      expect(await exit, output).toBe(0)
      expect(output).not.toMatch(/ERR_PNPM|ELIFECYCLE/)
      const suffix = output.match(/tenantscope_demo_app_([0-9a-f]{8})/)![1]!
      expect(await demoLeftovers(suffix)).toEqual({ databases: 2, roles: 2 })
      await dropAsPrinted(output, suffix)
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL')
    }
  })

  test('refuses an unknown option with the usage and exit code 2', async () => {
    const run = startDemo(['--frobnicate'], { DATABASE_URL: serverUrl() })
    expect(await run.exit).toBe(2)
    expect(run.output()).toContain('unknown option --frobnicate')
    expect(run.output()).toContain('Usage: pnpm demo')
  })
})
