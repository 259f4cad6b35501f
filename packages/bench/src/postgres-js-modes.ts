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

/**
 * One postgres.js mode, its pool not yet open. Each mode has a pool of its
 * own, opened around each of its slices and closed after it (see
 * postgres-js-comparison.ts): one pool at a time, so the bench holds `size`
 * connections rather than a pool per mode, and fits a server whose
 * max_connections others share.
 */
export interface PostgresJsMode {
  readonly name: string
  readonly label: string
  /** Opens the mode's pool, every connection of it (and what the mode prepares on it), and returns the mode on it. */
  open(): Promise<OpenPostgresJsMode>
}

/** A mode on its open pool. */
export interface OpenPostgresJsMode extends Mode {
  close(): Promise<void>
}

/**
 * Raw postgres.js against createTenantSql over postgres.js, each on its own
 * pool of `size` connections (opened by `open()`), sending the workloads'
 * statements as prepared statements (postgres.js's default for tagged
 * templates).
 */
export function createPostgresJsModes(urls: ModeUrls, size: number, prepare = true, sessionTenant?: string): PostgresJsMode[] {
  const pool = (url: string, mode: string, settings: Record<string, string> = {}, extra: object = {}) =>
    postgres(url, {
      max: size,
      prepare,
      onnotice: () => undefined,
      connection: { application_name: applicationName(mode), ...settings },
      ...extra,
    })
  // The mode's pool, named after it: every connection opened (and `setup`
  // run on them) before it is measured; `scope` makes what the mode runs on
  // from it.
  const mode = (
    name: string,
    url: string,
    run: (sql: postgres.Sql, operation: Operation, workload: string) => Promise<void>,
    {
      settings,
      extra,
      scope = (sql: postgres.Sql) => sql,
      setup,
    }: {
      settings?: Record<string, string>
      /** More pool options, made anew for each pool (tenantSocket's socket factory is its pool's own). */
      extra?: () => object
      scope?: (sql: postgres.Sql) => postgres.Sql
      setup?: (sql: postgres.Sql) => Promise<void>
    } = {},
  ): PostgresJsMode => {
    const label = POSTGRES_JS_LABELS[name]!
    return {
      name,
      label,
      async open() {
        const sql = pool(url, name, settings, extra?.())
        try {
          await warm(sql, size)
          await setup?.(sql)
        } catch (error) {
          await sql.end({ timeout: 5 })
          throw error
        }
        const scoped = scope(sql)
        return { name, label, run: (operation, workload) => run(scoped, operation, workload), close: () => sql.end({ timeout: 5 }) }
      },
    }
  }
  const modes: PostgresJsMode[] = [
    mode('postgres-js-raw', urls.maintenanceUrl, runRaw),
    mode('postgres-js-tenantscope', urls.appUrl, runScoped, { scope: createTenantSql }),
    mode('postgres-js-socket', urls.appUrl, runScoped, { extra: () => tenantSocket({ prepare }), scope: createTenantSql }),
    mode('postgres-js-floor', urls.appUrl, runFloor),
  ]
  if (sessionTenant !== undefined) {
    modes.push(
      mode('postgres-js-one-command', urls.appUrl, runOneCommand, { setup: (sql) => prepareEverywhere(sql, size) }),
      mode('postgres-js-rls-session', urls.appUrl, runSession, { settings: { 'app.current_tenant': sessionTenant } }),
    )
  }
  return modes
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
