// The demo itself; src/main.ts is the entry point.
import { randomBytes } from 'node:crypto'
import { createDatabase, type RunningApi, setupExample, startApi } from '@tenantscope/example-api'
import { type RunningWorker, startWorker } from '@tenantscope/example-worker'
import type { TenantEntry, TenantRouter } from '@tenantscope/router'
import { createDemoDatabase, type DemoDatabase, withClient } from './database.js'
import { type EmbeddedServer, startEmbeddedPostgres } from './embedded.js'
import { bold, dim, green, red, step } from './progress.js'
import { demoTenants, seed } from './seed.js'
import { money, table } from './table.js'
import { runTour, sign } from './tour.js'

const USAGE = `Usage: pnpm demo [--keep] [--port <n>]

  --keep       leave the API, the worker and the database running afterwards,
               and print ready-to-paste curl commands (Ctrl+C stops them)
  --port <n>   the API's port (default: a free one)

Uses embedded PostgreSQL unless DATABASE_URL is set. DATABASE_URL must be a
superuser, or a role with CREATEDB and CREATEROLE: the demo creates its own
database and application role there, and drops both when it ends.`

interface Args {
  keep: boolean
  port: number
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { keep: false, port: 0 }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') continue
    if (arg === '--keep') args.keep = true
    else if (arg === '--port' || arg.startsWith('--port=')) {
      const value = arg.includes('=') ? arg.split('=')[1] : argv[++i]
      const port = Number(value)
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port needs a number from 0 to 65535, got ${value}`)
      args.port = port
    } else if (arg === '--help' || arg === '-h') {
      console.log(USAGE)
      process.exit(0)
    } else throw new UsageError(`unknown option ${arg}`)
  }
  return args
}

class UsageError extends Error {}

/** Shows a connection string without its password. */
function redact(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(not a URL)'
  }
}

/** Runs the demo; resolves to the process exit code. */
export async function runDemo(argv: readonly string[]): Promise<number> {
  let args: Args
  try {
    args = parseArgs(argv)
  } catch (error) {
    console.error(`${red('✗')} ${(error as Error).message}\n\n${USAGE}`)
    return 2
  }

  console.log(
    bold('tenantscope demo: one API, three tenants of three kinds (shared tables, own schema, own database), and what each refuses\n'),
  )
  const tenants = demoTenants()
  let embedded: EmbeddedServer | undefined
  let db: DemoDatabase | undefined
  let api: RunningApi | undefined
  let worker: RunningWorker | undefined
  let workerRouter: TenantRouter | undefined
  let cleaningUp: Promise<void> | undefined
  let keeping = false
  let stopping = false
  // The latest step (they run one at a time): when Ctrl+C comes, cleanup waits
  // for it to end, so that nothing half-started (a server, a database)
  // outlives the demo, and no connection of the step is killed under it by the
  // cleanup's DROP DATABASE.
  let latest: Promise<unknown> = Promise.resolve()
  // Each step of the run; none starts once Ctrl+C came, as the cleanup is
  // already taking down what the earlier ones made.
  const stage = <T>(label: string, task: () => Promise<T>): Promise<T> => {
    if (stopping) return Promise.reject(new Error('interrupted'))
    const running = step(label, task)
    latest = running
    return running
  }
  const cleanup = (keepDatabase: boolean) =>
    (cleaningUp ??= (async () => {
      await latest.catch(() => undefined)
      await worker?.close().catch(() => undefined)
      await workerRouter?.end().catch(() => undefined)
      await api?.close().catch(() => undefined)
      if (keepDatabase && db && !embedded) {
        console.log(`\nKept database ${db.name}, its tenants and role ${db.appRole}. Drop them with:`)
        for (const statement of db.dropStatements(tenants)) console.log(`  ${statement};`)
        return
      }
      // Embedded: stopping the server removes its whole data directory.
      if (embedded) await embedded.stop()
      else
        await db?.drop(tenants).catch((error: unknown) => console.error(`${red('!')} could not drop the demo database: ${String(error)}`))
    })())

  // Ctrl+C in the middle: clean up, then leave with the conventional 130.
  // `on`, not `once`: one Ctrl+C can arrive more than once (the terminal signals
  // the whole process group, and pnpm forwards it to its child as well); with
  // no listener left, the second one would kill the demo in the middle of its
  // cleanup, and pnpm would report the script as failed.
  const interrupted = new Promise<number>((resolve) => {
    const stop = (code: number) => {
      stopping = true
      resolve(code)
    }
    process.on('SIGINT', () => stop(130))
    process.on('SIGTERM', () => stop(143))
  })

  const run = async (): Promise<number> => {
    const fromEnv = process.env.DATABASE_URL
    let serverUrl: string
    if (fromEnv) {
      serverUrl = fromEnv
      await stage(`Connecting to DATABASE_URL (${redact(fromEnv)})`, async () => {
        await withClient(fromEnv, (client) => client.query('SELECT 1')).catch((error: Error & { code?: string }) => {
          throw new Error(
            `cannot connect to DATABASE_URL: ${error.code ?? error.message}. Is PostgreSQL running there? Unset DATABASE_URL to use embedded PostgreSQL.`,
          )
        })
      })
    } else {
      const server = await stage('Starting embedded PostgreSQL (real binaries from npm; the first start takes a few seconds)', () =>
        startEmbeddedPostgres().then((started) => (embedded = started)),
      )
      serverUrl = server.adminUrl
    }
    const demoDb = await stage('Creating a database, applying the shipped migrations, creating the application role', () =>
      createDemoDatabase(serverUrl).then((created) => (db = created)),
    )
    console.log(
      dim(`  database ${demoDb.name}, application role ${demoDb.appRole} (LOGIN, in tenantscope_app; not superuser, not BYPASSRLS)`),
    )
    const setup = await stage('Provisioning one tenant of each kind: shared tables + RLS, a schema, a database', () =>
      setupExample({ adminUrl: demoDb.adminUrl, appRole: demoDb.appRole, tenants }),
    )
    const entries = setup.tenants
    await stage(`Seeding ${tenants.length} tenants with users, projects and invoices`, () => seed(demoDb.adminUrl, tenants, entries))
    const jwtSecret = randomBytes(32).toString('base64url')
    const runningApi = await stage('Starting the API (Express + Drizzle, as the application role)', () =>
      startApi({ databaseUrl: demoDb.appUrl, queueUrl: demoDb.adminUrl, jwtSecret, port: args.port, log: () => undefined }).then(
        (started) => (api = started),
      ),
    )
    await stage('Starting the worker (pg-boss, as the application role)', async () => {
      // The same kind of router as the API's: the worker's report code runs for every kind unchanged.
      const { router } = await createDatabase(demoDb.appUrl, { max: 4, applicationName: 'tenantscope-example-worker' })
      workerRouter = router
      worker = await startWorker({ databaseUrl: demoDb.appUrl, queueUrl: demoDb.adminUrl, pool: router, pollingIntervalSeconds: 0.5 })
    })
    const { checks, reports } = await stage('Running the tour', () =>
      runTour({
        apiUrl: runningApi.url,
        jwtSecret,
        tenants,
        entries,
        appUrl: demoDb.appUrl,
        appRole: demoDb.appRole,
        adminUrl: demoDb.adminUrl,
      }),
    )
    if (stopping) return 130 // Ctrl+C during the tour: the cleanup has taken over

    console.log(`\n${bold('Tenants')}  ${dim('(one router serves all three; the API and worker connect as ' + demoDb.appRole + ')')}`)
    console.log(
      table(
        ['tenant', 'kind', 'lives in', 'users', 'projects', 'invoices'],
        tenants.map((t) => [
          t.name,
          t.kind,
          livesIn(entries.find((e) => e.tenantId === t.id)!),
          String(t.users.length),
          t.projects.map((p) => p.name).join(', '),
          String(t.projects.reduce((n, p) => n + p.invoices.length, 0)),
        ]),
      ),
    )
    console.log(`\n${bold('Tour')}`)
    console.log(
      table(
        ['#', 'step', 'as', 'expected', 'got', ''],
        checks.map((c, i) => [String(i + 1), c.step, c.as, c.expected, c.actual, c.ok ? green('✓') : red('✗')]),
      ),
    )
    console.log(`\n${bold('Invoice reports')}  ${dim('(pg-boss jobs, each run by the worker inside withTenant)')}`)
    console.log(
      table(
        ['tenant', 'invoices', 'paid', 'sent', 'draft', 'total', ''],
        reports.map((r) => [
          r.tenant,
          String(r.invoices),
          money(r.paid),
          money(r.sent),
          money(r.draft),
          money(r.total),
          r.ok ? green('✓') : red('✗'),
        ]),
      ),
    )
    const failed = checks.filter((c) => !c.ok)
    if (failed.length > 0) {
      console.log(`\n${red('✗')} ${failed.length} of ${checks.length} checks failed: ${failed.map((c) => c.step).join('; ')}`)
      return 1
    }
    console.log(`\n${green('✓')} all ${checks.length} checks passed`)
    console.log(
      dim(
        `  No query in the API or the worker names a tenant or knows its kind: the router sent each one where its tenant lives,\n  and PostgreSQL refused the rest (RLS in the shared tables, privileges on the schemas, separate databases), for ${demoDb.appRole}.`,
      ),
    )

    if (args.keep) {
      await printCurl(runningApi.url, jwtSecret, tenants, demoDb, Boolean(embedded))
      keeping = true
      return await new Promise<number>(() => undefined) // until Ctrl+C
    }
    return 0
  }

  let code: number
  try {
    code = await Promise.race([run(), interrupted])
  } catch (error) {
    console.error(`\n${red('✗')} demo failed: ${error instanceof Error ? error.message : String(error)}`)
    code = 1
  }
  // --keep, stopped with Ctrl+C after the tour: a normal end.
  const stoppedByUser = keeping && (code === 130 || code === 143)
  const keepDatabase = stoppedByUser && !embedded
  await cleanup(keepDatabase)
  if (!keepDatabase) console.log(dim(code === 0 || stoppedByUser ? 'Cleaned up: the demo database and role are gone.' : 'Cleaned up.'))
  return stoppedByUser ? 0 : code
}

function livesIn(entry: TenantEntry): string {
  if (entry.strategy === 'schema') return `schema ${entry.schema}, its own role`
  if (entry.strategy === 'database') return `database ${entry.database}`
  return 'shared tables, RLS'
}

async function printCurl(
  url: string,
  secret: string,
  tenants: ReturnType<typeof demoTenants>,
  db: DemoDatabase,
  embedded: boolean,
): Promise<void> {
  const [acme, globex, initech] = tenants as [(typeof tenants)[0], (typeof tenants)[0], (typeof tenants)[0]]
  const acmeToken = await sign(secret, { tenant_id: acme.id, sub: acme.users[0]!.email }, '24h')
  const globexToken = await sign(secret, { tenant_id: globex.id, sub: globex.users[0]!.email }, '24h')
  const initechToken = await sign(secret, { tenant_id: initech.id, sub: initech.users[0]!.email }, '24h')
  console.log(`
${bold('The API is running at ' + url)}  ${dim(embedded ? '(Ctrl+C stops the API, the worker and the embedded PostgreSQL)' : '(Ctrl+C stops the API and the worker; the database is kept)')}

  export ACME_TOKEN=${acmeToken}
  export GLOBEX_TOKEN=${globexToken}
  export INITECH_TOKEN=${initechToken}

  # where each tenant lives (pool, schema, database): the same routes serve all three
  curl -s ${url}/me -H "Authorization: Bearer $ACME_TOKEN"
  curl -s ${url}/me -H "Authorization: Bearer $GLOBEX_TOKEN"
  curl -s ${url}/me -H "Authorization: Bearer $INITECH_TOKEN"

  # Acme's projects (paginated)
  curl -s '${url}/projects?limit=2' -H "Authorization: Bearer $ACME_TOKEN"
  # Globex's project, asked for by Acme: 404
  curl -s -i ${url}/projects/${globex.projects[0]!.id} -H "Authorization: Bearer $ACME_TOKEN"
  # create a project for Acme
  curl -s -X POST ${url}/projects -H "Authorization: Bearer $ACME_TOKEN" -H 'content-type: application/json' -d '{"name":"Portable Hole"}'
  # no token: 401
  curl -s -i ${url}/projects
  # queue an invoice report for Globex, then read it with the id it returns
  curl -s -X POST ${url}/reports -H "Authorization: Bearer $GLOBEX_TOKEN"
  curl -s ${url}/reports/<id> -H "Authorization: Bearer $GLOBEX_TOKEN"

  # the database, as the application role (RLS applies)
  psql '${db.appUrl}'
`)
}
