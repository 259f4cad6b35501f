import { withTenant } from '@tenantscope/core'
import { createTenantSql } from '@tenantscope/postgres'
import postgres from 'postgres'
import type { Mode, ModeUrls } from './modes.js'
import type { Operation } from './workloads.js'

export const POSTGRES_JS_LABELS: Record<string, string> = {
  'postgres-js-raw': 'raw postgres.js (explicit tenant_id, BYPASSRLS role)',
  'postgres-js-tenantscope': 'tenantscope createTenantSql over postgres.js (RLS; BEGIN, setter, statement, COMMIT in one write)',
  'postgres-js-floor':
    'floor of that design, by hand on raw postgres.js: reserve(), BEGIN, set_config, statement, COMMIT sent together, release()',
}

export interface PostgresJsModes {
  readonly modes: Mode[]
  close(): Promise<void>
}

/**
 * Raw postgres.js against createTenantSql over postgres.js, each on its own
 * warm pool of `size` connections, sending the workloads' statements as
 * prepared statements (postgres.js's default for tagged templates).
 */
export async function createPostgresJsModes(urls: ModeUrls, size: number, prepare = true): Promise<PostgresJsModes> {
  const options = { max: size, prepare, onnotice: () => undefined }
  const raw = postgres(urls.maintenanceUrl, options)
  const app = postgres(urls.appUrl, options)
  await Promise.all([warm(raw, size), warm(app, size)])
  const scoped = createTenantSql(app)
  const modes: Mode[] = [
    { name: 'postgres-js-raw', label: POSTGRES_JS_LABELS['postgres-js-raw']!, run: (operation) => runRaw(raw, operation) },
    {
      name: 'postgres-js-tenantscope',
      label: POSTGRES_JS_LABELS['postgres-js-tenantscope']!,
      run: (operation) => runScoped(scoped, operation),
    },
    { name: 'postgres-js-floor', label: POSTGRES_JS_LABELS['postgres-js-floor']!, run: (operation) => runFloor(app, operation) },
  ]
  return { modes, close: () => Promise.all([raw.end({ timeout: 5 }), app.end({ timeout: 5 })]).then(() => undefined) }
}

// Opens every connection of the pool: `size` queries in flight at once.
async function warm(sql: postgres.Sql, size: number): Promise<void> {
  await Promise.all(Array.from({ length: size }, () => sql`SELECT pg_sleep(0.01)`))
}

type Values = postgres.ParameterOrJSON<never>[]

async function runRaw(sql: postgres.Sql, operation: Operation): Promise<void> {
  if (!operation.transaction) {
    const { text, values } = operation.statements[0]!.raw
    await sql.unsafe(text, values as Values, { prepare: true })
    return
  }
  await sql.begin(async (tx) => {
    for (const { raw } of operation.statements) await tx.unsafe(raw.text, raw.values as Values, { prepare: true })
  })
}

function runScoped(sql: postgres.Sql, operation: Operation): Promise<void> {
  return withTenant(operation.tenantId, async () => {
    if (!operation.transaction) {
      const { text, values } = operation.statements[0]!.scoped
      await sql.unsafe(text, values as Values, { prepare: true })
      return
    }
    await sql.begin(async (tx) => {
      for (const { scoped } of operation.statements) await tx.unsafe(scoped.text, scoped.values as Values, { prepare: true })
    })
  })
}

// What createTenantSql does for one statement, written out with postgres.js's
// public API and nothing else: the cost of the design itself (four commands,
// each closed by its own Sync, one round trip).
async function runFloor(sql: postgres.Sql, operation: Operation): Promise<void> {
  if (operation.transaction) {
    await sql.begin(async (tx) => {
      // Not awaited: it rides with the first statement, as createTenantSql's does.
      void tx.unsafe(`SELECT set_config('app.current_tenant', $1, true)`, [operation.tenantId], { prepare: true }).execute()
      for (const { scoped } of operation.statements) await tx.unsafe(scoped.text, scoped.values as Values, { prepare: true })
    })
    return
  }
  const { text, values } = operation.statements[0]!.scoped
  const reserved = await sql.reserve()
  try {
    await Promise.all([
      reserved.unsafe('begin'),
      reserved.unsafe(`SELECT set_config('app.current_tenant', $1, true)`, [operation.tenantId], { prepare: true }),
      reserved.unsafe(text, values as Values, { prepare: true }),
      reserved.unsafe('commit'),
    ])
  } finally {
    reserved.release()
  }
}
