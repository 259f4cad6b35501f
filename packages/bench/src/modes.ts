import { createTenantPool, type TenantPool, withTenant } from '@tenantscope/core'
import pg from 'pg'
import { floorPoolQuery, floorQuery } from './floor.js'
import { createPreparedStatementsPool } from './prepared-mode.js'
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
  raw: 'raw pg (explicit tenant_id, BYPASSRLS role, unprepared: as users write it)',
  floor:
    "the floor: a minimal client on pg, no tenantscope code (tenantscope's messages exactly: named setter + statement, one Sync, one write)",
  tenantscope: 'tenantscope TenantPool (default options: the named setter)',
  'tenantscope-prepared': "tenantscope TenantPool, prepareStatements: true (users' statements prepared per connection)",
  'tenantscope-unnamed': 'tenantscope TenantPool, prepareSetter: false (the setter parsed on every query)',
  'drizzle-raw': 'raw Drizzle over raw pg (explicit tenant_id, BYPASSRLS role): the Drizzle baseline',
  drizzle: 'tenantscope through Drizzle (tenantDrizzle)',
  naive: 'naive wrapper: BEGIN; set_config; query; COMMIT',
  session: 'session SET + query (unsafe)',
}

export const MODE_ORDER = Object.keys(MODE_LABELS)

export const ROUND_TRIPS: Record<string, string> = {
  raw: '1 round trip; a transaction: BEGIN, each statement, COMMIT',
  floor: '1; a transaction: the setter rides with BEGIN',
  tenantscope: '1; a transaction: the setter rides with BEGIN',
  'tenantscope-prepared': '1; same as tenantscope',
  'tenantscope-unnamed': '1; same as tenantscope',
  'drizzle-raw': '1; same as raw',
  drizzle: '1; same as tenantscope',
  naive: '4; a transaction: one more than raw',
  session: '2; a transaction: one more than raw',
}

// Pools keep their connections for the whole run: the server CPU of a slice
// is read from the backends that were there when it began.
const poolOptions = (connectionString: string, max: number): pg.PoolConfig => ({ connectionString, max, idleTimeoutMillis: 0 })

/**
 * The modes of one network, each over warm pools of `size` connections.
 * Raw pg and raw Drizzle use their own pool (a role that bypasses RLS); the
 * session-SET mode gets its own, since it leaves a setting on every
 * connection it touches; prepareStatements gets its own, since its
 * statements stay on the connections; the floor gets its own, so that it
 * runs on connections that tenantscope never touched; the other modes share
 * the application pool.
 */
export async function createModes(urls: ModeUrls, size: number, only?: readonly string[]): Promise<ModeSet> {
  const wanted = (name: string) => !only || only.includes(name)
  const rawPool = new pg.Pool(poolOptions(urls.maintenanceUrl, size))
  const appPool = new pg.Pool(poolOptions(urls.appUrl, size))
  const pools = [rawPool, appPool]
  const notes: string[] = []
  const modes: Mode[] = []
  const add = (mode: Mode) => wanted(mode.name) && modes.push(mode)

  const tenantPool = createTenantPool(appPool)
  const unnamedPool = createTenantPool(appPool, { prepareSetter: false })
  add({ name: 'raw', label: MODE_LABELS.raw!, run: (operation) => runRaw(rawPool, operation) })
  // The floor's own connections: on the application pool's it would also
  // pay the hooks that tenantscope adds to every connection it checks out.
  const floorPool = wanted('floor') ? new pg.Pool(poolOptions(urls.appUrl, size)) : undefined
  if (floorPool) {
    pools.push(floorPool)
    add({ name: 'floor', label: MODE_LABELS.floor!, run: (operation) => runFloor(floorPool, operation) })
  }
  add({ name: 'tenantscope', label: MODE_LABELS.tenantscope!, run: (operation) => runTenantPool(tenantPool, operation) })
  if (wanted('tenantscope-prepared')) {
    const prepared = await createPreparedStatementsPool(urls.appUrl, size, (pool) => pools.push(pool))
    if (typeof prepared === 'string') notes.push(prepared)
    else
      add({
        name: 'tenantscope-prepared',
        label: MODE_LABELS['tenantscope-prepared']!,
        run: (operation) => runTenantPool(prepared, operation),
      })
  }
  add({
    name: 'tenantscope-unnamed',
    label: MODE_LABELS['tenantscope-unnamed']!,
    run: (operation) => runTenantPool(unnamedPool, operation),
  })
  if (wanted('drizzle') || wanted('drizzle-raw')) {
    const drizzle = await loadDrizzleModes(rawPool, appPool)
    if (typeof drizzle === 'string') notes.push(drizzle)
    else for (const mode of drizzle) add(mode)
  }
  add({ name: 'naive', label: MODE_LABELS.naive!, run: (operation) => runNaive(appPool, operation) })
  if (wanted('session')) {
    const sessionPool = new pg.Pool(poolOptions(urls.appUrl, size))
    pools.push(sessionPool)
    add({ name: 'session', label: MODE_LABELS.session!, run: (operation) => runSessionSet(sessionPool, operation) })
  }
  try {
    await Promise.all(pools.map((pool) => warm(pool, size)))
    if (floorPool) await checkFloor(floorPool, rawPool)
  } catch (error) {
    await Promise.all(pools.map((pool) => pool.end()))
    throw error
  }
  return {
    modes,
    notes,
    close: async () => {
      await Promise.all(pools.map((pool) => pool.end()))
    },
  }
}

// The floor must do the work it stands for: a setter that did not apply
// would leave RLS showing no rows, and a cheaper, meaningless floor.
async function checkFloor(floorPool: pg.Pool, rawPool: pg.Pool): Promise<void> {
  const { rows } = await rawPool.query<{ tenant_id: string; id: string }>('SELECT tenant_id, id FROM projects LIMIT 1')
  const client = await floorPool.connect()
  try {
    const result = await floorQuery(client, rows[0]!.tenant_id, 'SELECT id FROM projects WHERE id = $1', [rows[0]!.id])
    if (result.rows.length !== 1) throw new Error(`the floor client read ${result.rows.length} rows of its tenant's project, not 1`)
  } finally {
    client.release()
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

// The floor: the setter rides with the statement, or with BEGIN in a
// transaction, whose statements then go as pg sends them.
async function runFloor(pool: pg.Pool, operation: Operation): Promise<void> {
  if (!operation.transaction) {
    const { text, values } = operation.statements[0]!.scoped
    return floorPoolQuery(pool, operation.tenantId, text, values)
  }
  const client = await pool.connect()
  try {
    await floorQuery(client, operation.tenantId, 'BEGIN', [])
    try {
      for (const { scoped } of operation.statements) await client.query(scoped.text, scoped.values)
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    }
  } finally {
    client.release()
  }
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

async function loadDrizzleModes(rawPool: pg.Pool, appPool: pg.Pool): Promise<Mode[] | string> {
  try {
    const { createDrizzleModes } = await import('./drizzle-mode.js')
    return createDrizzleModes(rawPool, appPool)
  } catch (error) {
    return `Drizzle modes not run: @tenantscope/drizzle could not be loaded (${String((error as Error).message ?? error).split('\n')[0]}). Run \`pnpm build\` first.`
  }
}
