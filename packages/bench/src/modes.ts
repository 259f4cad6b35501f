import { createTenantPool, type TenantPool, withTenant } from '@tenantscope/core'
import pg from 'pg'
import type { Operation } from './workloads.js'

/** One way of running the workloads' operations. */
export interface Mode {
  readonly name: string
  readonly label: string
  run(operation: Operation, workload: string): Promise<void>
}

export interface ModeUrls {
  /** BYPASSRLS role: the raw baseline. */
  maintenanceUrl: string
  /** The application role, RLS applies. */
  appUrl: string
}

export interface ModeSet {
  readonly modes: Mode[]
  readonly notes: string[]
  close(): Promise<void>
}

export const MODE_LABELS: Record<string, string> = {
  raw: 'raw pg (explicit tenant_id, BYPASSRLS role)',
  tenantscope: 'tenantscope TenantPool (default options: the named setter)',
  'tenantscope-unnamed': 'tenantscope TenantPool, prepareSetter: false (the setter parsed on every query)',
  drizzle: 'tenantscope through Drizzle',
  naive: 'naive wrapper: BEGIN; set_config; query; COMMIT',
  session: 'session SET + query (unsafe)',
}

/**
 * The modes of one network, each over warm pools of `size` connections.
 * Raw pg uses its own pool (a role that bypasses RLS); the session-SET mode
 * gets its own, since it leaves a setting on every connection it touches;
 * the other modes share the application pool.
 */
export async function createModes(urls: ModeUrls, size: number, only?: string[]): Promise<ModeSet> {
  const rawPool = new pg.Pool({ connectionString: urls.maintenanceUrl, max: size })
  const appPool = new pg.Pool({ connectionString: urls.appUrl, max: size })
  const sessionPool = new pg.Pool({ connectionString: urls.appUrl, max: size })
  const pools = [rawPool, appPool, sessionPool]
  await Promise.all(pools.map((pool) => warm(pool, size)))

  const tenantPool = createTenantPool(appPool)
  const unnamedPool = createTenantPool(appPool, { prepareSetter: false })
  const notes: string[] = []
  const modes: Mode[] = [
    { name: 'raw', label: MODE_LABELS.raw!, run: (operation) => runRaw(rawPool, operation) },
    { name: 'tenantscope', label: MODE_LABELS.tenantscope!, run: (operation) => runTenantPool(tenantPool, operation) },
    { name: 'tenantscope-unnamed', label: MODE_LABELS['tenantscope-unnamed']!, run: (operation) => runTenantPool(unnamedPool, operation) },
  ]
  const drizzle = await loadDrizzleMode(appPool)
  if (typeof drizzle === 'string') notes.push(drizzle)
  else modes.push(drizzle)
  modes.push(
    { name: 'naive', label: MODE_LABELS.naive!, run: (operation) => runNaive(appPool, operation) },
    { name: 'session', label: MODE_LABELS.session!, run: (operation) => runSessionSet(sessionPool, operation) },
  )
  return {
    modes: only ? modes.filter((mode) => only.includes(mode.name)) : modes,
    notes,
    close: async () => {
      await Promise.all(pools.map((pool) => pool.end()))
    },
  }
}

async function warm(pool: pg.Pool, size: number): Promise<void> {
  const clients = await Promise.all(Array.from({ length: size }, () => pool.connect()))
  for (const client of clients) client.release()
}

async function runRaw(pool: pg.Pool, operation: Operation): Promise<void> {
  if (!operation.transaction) {
    const { text, values } = operation.statements[0]!.raw
    await pool.query(text, values)
    return
  }
  await inTransaction(pool, async (client) => {
    for (const { raw } of operation.statements) await client.query(raw.text, raw.values)
  })
}

function runTenantPool(pool: TenantPool, operation: Operation): Promise<void> {
  return withTenant(operation.tenantId, async () => {
    if (!operation.transaction) {
      const { text, values } = operation.statements[0]!.scoped
      await pool.query(text, values)
      return
    }
    await pool.transaction(async (client) => {
      for (const { scoped } of operation.statements) await client.query(scoped.text, scoped.values)
    })
  })
}

// What a hand-written wrapper does: four round trips for one statement.
function runNaive(pool: pg.Pool, operation: Operation): Promise<void> {
  return inTransaction(pool, async (client) => {
    await client.query(`SELECT set_config('app.current_tenant', $1, true)`, [operation.tenantId])
    for (const { scoped } of operation.statements) await client.query(scoped.text, scoped.values)
  })
}

// BEGIN, the body, COMMIT (ROLLBACK on error) on one connection of `pool`.
async function inTransaction(pool: pg.Pool, body: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await body(client)
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  } finally {
    client.release()
  }
}

// The seed guide's pattern: a session-level SET, then the query. Two round
// trips, and the tenant stays on the connection for the next borrower.
// (The id is a UUID from our own seed; the seed interpolated it unchecked.)
async function runSessionSet(pool: pg.Pool, operation: Operation): Promise<void> {
  const client = await pool.connect()
  try {
    await client.query(`SET app.current_tenant = '${operation.tenantId}'`)
    if (operation.transaction) await client.query('BEGIN')
    for (const { scoped } of operation.statements) await client.query(scoped.text, scoped.values)
    if (operation.transaction) await client.query('COMMIT')
  } catch (error) {
    if (operation.transaction) await client.query('ROLLBACK').catch(() => undefined)
    throw error
  } finally {
    client.release()
  }
}

async function loadDrizzleMode(appPool: pg.Pool): Promise<Mode | string> {
  try {
    const { createDrizzleMode } = await import('./drizzle-mode.js')
    return await createDrizzleMode(appPool)
  } catch (error) {
    return `Drizzle mode not run: @tenantscope/drizzle could not be loaded (${String((error as Error).message ?? error).split('\n')[0]}). Run \`pnpm build\` first.`
  }
}
