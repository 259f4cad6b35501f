import { AsyncLocalStorage } from 'node:async_hooks'
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

export const MODE_LABELS: Record<string, string> = {
  raw: 'raw pg (explicit tenant_id, BYPASSRLS role, unprepared: as users write it)',
  floor:
    "the floor: a minimal client on pg, no tenantscope code (tenantscope's messages exactly: named setter + statement, one Sync, one write)",
  'floor-again':
    'the floor again, in a second process: the A/A control (the same code as the floor; how far apart the two land is the noise of this run)',
  'floor-als': 'the floor with its tenant carried by AsyncLocalStorage, as withTenant carries it (one run per operation)',
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
  'floor-again': '1; same as the floor',
  'floor-als': '1; same as the floor',
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

/** One mode, opened in the process that measures it. */
export interface OpenMode {
  /** Undefined when the mode cannot run here; `note` says why. */
  readonly mode: Mode | undefined
  readonly note: string | undefined
  close(): Promise<void>
}

/**
 * Opens mode `name` over its own warm pool of `size` connections: raw pg
 * and raw Drizzle as a role that bypasses RLS, every other mode as the
 * application role. Each mode runs in a process of its own (see
 * mode-process.ts), so no pool, connection hook or JIT state is shared.
 */
export async function openMode(name: string, urls: ModeUrls, size: number): Promise<OpenMode> {
  const pools: pg.Pool[] = []
  const pool = (url: string) => {
    const opened = new pg.Pool(poolOptions(url, size))
    pools.push(opened)
    return opened
  }
  const close = async () => {
    await Promise.all(pools.map((opened) => opened.end()))
  }
  let run: Mode['run'] | undefined
  let note: string | undefined
  try {
    // A mode's operations on its pool.
    const on =
      <P>(target: P, runner: (target: P, operation: Operation) => Promise<void>): Mode['run'] =>
      (operation) =>
        runner(target, operation)
    switch (name) {
      case 'raw':
        run = on(pool(urls.maintenanceUrl), runRaw)
        break
      case 'floor':
      case 'floor-again':
      case 'floor-als': {
        const floorPool = pool(urls.appUrl)
        await checkFloor(floorPool, urls.maintenanceUrl)
        run = on(floorPool, name === 'floor-als' ? runFloorInContext : runFloor)
        break
      }
      case 'tenantscope':
      case 'tenantscope-unnamed':
        run = on(createTenantPool(pool(urls.appUrl), name === 'tenantscope' ? {} : { prepareSetter: false }), runTenantPool)
        break
      case 'tenantscope-prepared': {
        const prepared = await createPreparedStatementsPool(urls.appUrl, size, (opened) => pools.push(opened))
        if (typeof prepared === 'string') note = prepared
        else run = on(prepared, runTenantPool)
        break
      }
      case 'drizzle':
      case 'drizzle-raw': {
        const drizzle = await loadDrizzleMode(name, pool(name === 'drizzle' ? urls.appUrl : urls.maintenanceUrl))
        if (typeof drizzle === 'string') note = drizzle
        else run = drizzle.run
        break
      }
      case 'naive':
        run = on(pool(urls.appUrl), runNaive)
        break
      case 'session':
        run = on(pool(urls.appUrl), runSessionSet)
        break
      default:
        throw new Error(`not a mode: ${name} (${MODE_ORDER.join(', ')})`)
    }
    await Promise.all(pools.map((opened) => warm(opened, size)))
  } catch (error) {
    await close()
    throw error
  }
  return { mode: run && { name, label: MODE_LABELS[name]!, run }, note, close }
}

// The floor must do the work it stands for: a setter that did not apply
// would leave RLS showing no rows, and a cheaper, meaningless floor.
async function checkFloor(floorPool: pg.Pool, maintenanceUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: maintenanceUrl })
  await admin.connect()
  const { rows } = await admin
    .query<{ tenant_id: string; id: string }>('SELECT tenant_id, id FROM projects LIMIT 1')
    .finally(() => admin.end())
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
export async function runFloor(pool: pg.Pool, operation: Operation, tenantId = operation.tenantId): Promise<void> {
  if (!operation.transaction) {
    const { text, values } = operation.statements[0]!.scoped
    return floorPoolQuery(pool, tenantId, text, values)
  }
  const client = await pool.connect()
  try {
    await floorQuery(client, tenantId, 'BEGIN', [])
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

// The floor's tenant carried as any withTenant on this Node carries it: the
// store of an AsyncLocalStorage, read where the statement is sent. On Node
// 20 a storage in use runs async_hooks' init hook for every promise, tick
// and socket write of the process: what the design costs before any of
// tenantscope's code.
const floorTenant = new AsyncLocalStorage<string>()

export function runFloorInContext(pool: pg.Pool, operation: Operation): Promise<void> {
  return floorTenant.run(operation.tenantId, runFloorForStoredTenant, pool, operation)
}

function runFloorForStoredTenant(pool: pg.Pool, operation: Operation): Promise<void> {
  return runFloor(pool, operation, floorTenant.getStore()!)
}

export function runTenantPool(pool: TenantPool, operation: Operation): Promise<void> {
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

async function loadDrizzleMode(name: 'drizzle' | 'drizzle-raw', pool: pg.Pool): Promise<Mode | string> {
  try {
    const { createDrizzleMode } = await import('./drizzle-mode.js')
    return createDrizzleMode(name, pool)
  } catch (error) {
    return `Drizzle modes not run: @tenantscope/drizzle could not be loaded (${String((error as Error).message ?? error).split('\n')[0]}). Run \`pnpm build\` first.`
  }
}
