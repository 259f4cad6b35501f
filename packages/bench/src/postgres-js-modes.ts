import { withTenant } from '@tenantscope/core'
import { createTenantSql, tenantSocket } from '@tenantscope/postgres'
import postgres from 'postgres'
import type { Mode, ModeUrls } from './modes.js'
import type { Operation } from './workloads.js'

export const POSTGRES_JS_LABELS: Record<string, string> = {
  'postgres-js-raw': 'raw postgres.js (explicit tenant_id, BYPASSRLS role)',
  'postgres-js-tenantscope':
    'tenantscope createTenantSql over postgres.js (RLS; `BEGIN; SET LOCAL` as one simple Query, the statement, COMMIT, in one write)',
  'postgres-js-socket':
    'tenantscope createTenantSql over postgres(url, tenantSocket()) (the setter, its id bound, spliced in before the statement under its one Sync)',
  'postgres-js-floor':
    'floor of that design, by hand on raw postgres.js: reserve(), `BEGIN; SET LOCAL`, statement, COMMIT sent together, release()',
  'postgres-js-one-command':
    'floor of any design: the tenant and the statement in one command (`SET LOCAL` and `EXECUTE` of a server-side prepared statement in one simple Query, values as literals: not safe, a measurement only)',
  'postgres-js-rls-session':
    'ceiling of any RLS design: raw postgres.js on the app role, the tenant already on the session (one fixed tenant, no setter, not safe)',
}

/** application_name of each mode's connections, to find their backends. */
export const applicationName = (mode: string) => `tenantscope_bench_${mode}`

export interface PostgresJsModes {
  readonly modes: Mode[]
  close(): Promise<void>
}

/**
 * Raw postgres.js against createTenantSql over postgres.js, each on its own
 * warm pool of `size` connections, sending the workloads' statements as
 * prepared statements (postgres.js's default for tagged templates).
 */
export async function createPostgresJsModes(
  urls: ModeUrls,
  size: number,
  prepare = true,
  sessionTenant?: string,
): Promise<PostgresJsModes> {
  const pool = (url: string, mode: string, settings: Record<string, string> = {}, extra: object = {}) =>
    postgres(url, {
      max: size,
      prepare,
      onnotice: () => undefined,
      connection: { application_name: applicationName(mode), ...settings },
      ...extra,
    })
  const raw = pool(urls.maintenanceUrl, 'postgres-js-raw')
  const app = pool(urls.appUrl, 'postgres-js-tenantscope')
  const floorApp = pool(urls.appUrl, 'postgres-js-floor')
  const spliceApp = pool(urls.appUrl, 'postgres-js-socket', {}, tenantSocket({ prepare }))
  const pools = [raw, app, floorApp, spliceApp]
  const scoped = createTenantSql(app)
  const spliced = createTenantSql(spliceApp)
  const modes: Mode[] = [
    { name: 'postgres-js-raw', label: POSTGRES_JS_LABELS['postgres-js-raw']!, run: (operation) => runRaw(raw, operation) },
    {
      name: 'postgres-js-tenantscope',
      label: POSTGRES_JS_LABELS['postgres-js-tenantscope']!,
      run: (operation) => runScoped(scoped, operation),
    },
    { name: 'postgres-js-socket', label: POSTGRES_JS_LABELS['postgres-js-socket']!, run: (operation) => runScoped(spliced, operation) },
    { name: 'postgres-js-floor', label: POSTGRES_JS_LABELS['postgres-js-floor']!, run: (operation) => runFloor(floorApp, operation) },
  ]
  if (sessionTenant !== undefined) {
    const oneCommand = pool(urls.appUrl, 'postgres-js-one-command')
    pools.push(oneCommand)
    await prepareEverywhere(oneCommand, size)
    modes.push({
      name: 'postgres-js-one-command',
      label: POSTGRES_JS_LABELS['postgres-js-one-command']!,
      run: (operation, workload) => runOneCommand(oneCommand, operation, workload),
    })
    const session = pool(urls.appUrl, 'postgres-js-rls-session', { 'app.current_tenant': sessionTenant })
    pools.push(session)
    modes.push({
      name: 'postgres-js-rls-session',
      label: POSTGRES_JS_LABELS['postgres-js-rls-session']!,
      run: (operation) => runSession(session, operation),
    })
  }
  await Promise.all(pools.map((sql) => warm(sql, size)))
  return { modes, close: () => Promise.all(pools.map((sql) => sql.end({ timeout: 5 }))).then(() => undefined) }
}

// Opens every connection of the pool: `size` queries in flight at once.
async function warm(sql: postgres.Sql, size: number): Promise<void> {
  await Promise.all(Array.from({ length: size }, () => sql`SELECT pg_sleep(0.01)`))
}

type Values = postgres.ParameterOrJSON<never>[]

// Extended protocol, named statement: sql.unsafe without parameters would
// otherwise go as a simple Query, parsed and planned on every run (the top10
// statement has no parameter once RLS supplies the tenant).
const PREPARED = { prepare: true, simple: false } as const

async function runRaw(sql: postgres.Sql, operation: Operation): Promise<void> {
  if (!operation.transaction) {
    const { text, values } = operation.statements[0]!.raw
    await sql.unsafe(text, values as Values, PREPARED)
    return
  }
  await sql.begin(async (tx) => {
    for (const { raw } of operation.statements) await tx.unsafe(raw.text, raw.values as Values, PREPARED)
  })
}

function runScoped(sql: postgres.Sql, operation: Operation): Promise<void> {
  return withTenant(operation.tenantId, async () => {
    if (!operation.transaction) {
      const { text, values } = operation.statements[0]!.scoped
      await sql.unsafe(text, values as Values, PREPARED)
      return
    }
    await sql.begin(async (tx) => {
      for (const { scoped } of operation.statements) await tx.unsafe(scoped.text, scoped.values as Values, PREPARED)
    })
  })
}

// What createTenantSql does for one statement, written out with postgres.js's
// public API and nothing else: the cost of the design itself (three
// commands, each closed by its own Sync, one round trip). The bench's ids are
// UUIDs, which createTenantSql writes as a literal too.
async function runFloor(sql: postgres.Sql, operation: Operation): Promise<void> {
  if (operation.transaction) {
    await sql.begin(async (tx) => {
      // Not awaited: it rides with the first statement, as createTenantSql's does.
      void tx.unsafe(`SELECT set_config('app.current_tenant', $1, true)`, [operation.tenantId], PREPARED).execute()
      for (const { scoped } of operation.statements) await tx.unsafe(scoped.text, scoped.values as Values, PREPARED)
    })
    return
  }
  const { text, values } = operation.statements[0]!.scoped
  const reserved = await sql.reserve()
  try {
    await Promise.all([
      reserved.unsafe(`BEGIN; SET LOCAL app.current_tenant = '${operation.tenantId}'`),
      reserved.unsafe(text, values as Values, PREPARED),
      reserved.unsafe('commit'),
    ])
  } finally {
    reserved.release()
  }
}

// Server-side prepared statements for the read workloads on every connection
// of the pool (all reserved at once, so each is a different connection).
const ONE_COMMAND: Record<string, { name: string; text: string }> = {
  point: { name: 'bench_point', text: 'SELECT id, name, owner_id, created_at FROM projects WHERE id = $1' },
  top10: { name: 'bench_top10', text: 'SELECT id, name, created_at FROM projects ORDER BY created_at DESC LIMIT 10' },
}
async function prepareEverywhere(sql: postgres.Sql, size: number): Promise<void> {
  const reserved = await Promise.all(Array.from({ length: size }, () => sql.reserve()))
  for (const connection of reserved) {
    await connection.unsafe(`PREPARE ${ONE_COMMAND.point!.name}(uuid) AS ${ONE_COMMAND.point!.text}`)
    await connection.unsafe(`PREPARE ${ONE_COMMAND.top10!.name} AS ${ONE_COMMAND.top10!.text}`)
    connection.release()
  }
}

// One simple Query: PostgreSQL runs its statements as one implicit
// transaction, so SET LOCAL reaches the EXECUTE and ends with it. The ids
// come from the bench's own data (UUIDs); a real design would have to bind them.
async function runOneCommand(sql: postgres.Sql, operation: Operation, workload: string): Promise<void> {
  const statement = ONE_COMMAND[workload]
  if (statement === undefined) throw new Error(`one-command mode runs the read workloads only, not ${workload}`)
  const values = operation.statements[0]!.scoped.values as string[]
  const execute = values.length > 0 ? `EXECUTE ${statement.name}('${values[0]}')` : `EXECUTE ${statement.name}`
  await sql.unsafe(`SET LOCAL app.current_tenant = '${operation.tenantId}'; ${execute}`)
}

// The scoped statements with the tenant already on every connection of the
// pool: RLS's own cost and nothing else. One fixed tenant, so other tenants'
// keys find no row (an index probe all the same).
async function runSession(sql: postgres.Sql, operation: Operation): Promise<void> {
  if (!operation.transaction) {
    const { text, values } = operation.statements[0]!.scoped
    await sql.unsafe(text, values as Values, PREPARED)
    return
  }
  await sql.begin(async (tx) => {
    for (const { scoped } of operation.statements) await tx.unsafe(scoped.text, scoped.values as Values, PREPARED)
  })
}
