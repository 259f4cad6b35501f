import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TenantIdParser } from '@tenantscope/core'
import { ENTRY_VERSION_SQL, type PlacementOptions, provisionPlacement, type TenantEntry, validateEntry } from '@tenantscope/router'
import pg from 'pg'
import { type CitusMoveOptions, type CitusMoveReceipt, isCitusDestination, moveTenantOnCitus } from './citus-move.js'
import { eraseTenant } from './erase-tenant.js'
import { exportTenant } from './export-tenant.js'
import { freezeWrites, listeningBackends } from './freeze.js'
import { importTenant, inSchema } from './import-tenant.js'
import { asInterrupted } from './interrupted.js'
import { TenantLifecycleError } from './lifecycle-error.js'
import { placeColumns, readEntry, readMove, samePlace } from './move-journal.js'
import type { OnProgress } from './progress.js'
import { readArchive } from './read-archive.js'
import { checkSourceUnchanged } from './source-unchanged.js'
import { parseTenant } from './tenant-id.js'
import { tenantRowCounts } from './tenant-rows.js'

/** Where a tenant goes: a directory entry without its id and state. */
export type MoveDestination = Omit<TenantEntry, 'tenantId' | 'state'>

/** Maintenance credentials (a role that bypasses row level security) of the database that holds an entry's rows. */
export type PlaceConnection = (entry: TenantEntry) => string | pg.ClientConfig | Promise<string | pg.ClientConfig>

export interface MoveTenantOptions {
  /**
   * The directory's database (tenantscope.tenant_directory and
   * tenant_moves), as a role that may change them; `database` destinations
   * are created through it.
   */
  admin: pg.Pool
  tenantId: string
  to: MoveDestination
  connectionFor: PlaceConnection
  /** The schemas of the shared tables: a pool tenant's, and a database tenant's own. @default ['public'] */
  sharedSchemas?: readonly string[]
  /** A schema or database destination that does not exist yet is made with these (migrations, appRole, gateRole). */
  provision?: PlacementOptions
  /** The archive's folder. @default a folder of the tenant under the OS's temporary folder */
  directory?: string
  /** How long the source is kept after the switch, before finishMove erases it. @default 86_400_000 (a day) */
  graceMillis?: number
  /** How long every listening app instance has to acknowledge the freeze; then it is undone (FREEZE_TIMEOUT). @default 30_000 */
  freezeTimeoutMillis?: number
  /**
   * An extra wait once every listening instance acknowledged: for app
   * instances whose directory does not listen, their directory TTL plus
   * their longest write transaction. Without it, a move when no app
   * instance listens is refused (NO_LISTENERS, nothing changed): nobody
   * could acknowledge the freeze. `0` moves without waiting. @default none
   */
  settleMillis?: number
  /** @default 'tenant_id' */
  tenantColumn?: string
  /** @default uuidTenantId */
  parseTenantId?: TenantIdParser
  onProgress?: OnProgress
}

/** What a move did: kept in tenantscope.tenant_moves. */
export interface MoveReceipt {
  tenantId: string
  from: TenantEntry
  to: TenantEntry
  tables: { name: string; rows: number }[]
  rows: number
  /** App instances that acknowledged the freeze. */
  instances: number
  /** This run completed a move that an earlier run left frozen. */
  resumed: boolean
  startedAt: string
  switchedAt: string
  /** From the freeze to the switch: how long the tenant's writes were refused. */
  frozenMillis: number
  wallMillis: number
  /** finishMove erases the source from then on. */
  eraseAfter: string
  archive: string
}

/**
 * Moves a tenant to another place (pool, schema, database, region): freezes
 * its writes through the directory (state `moving`: reads go on, writes get
 * TENANT_UNAVAILABLE, retryable) and waits until every listening app
 * instance has acknowledged, exports it, imports it at the destination,
 * checks that the source's rows did not change since (their digest, not
 * only their count: VERIFY_FAILED), verifies counts and checksums at the
 * destination, and switches the directory entry, which unfreezes it. With
 * no listening app instance, it is refused (NO_LISTENERS) unless
 * `settleMillis` is given. The source keeps its copy until finishMove, after
 * `graceMillis`. A failure before the switch puts the tenant back where it
 * was (unfrozen, the destination emptied); if even that fails the tenant
 * stays frozen and running the move again completes it.
 */
export async function moveTenant(options: MoveTenantOptions): Promise<MoveReceipt>
/**
 * Moves a pool tenant of a Citus cluster to another worker node
 * (`to: { citusNode: 'host:port' }`): isolated into a shard of its own if it
 * isn't, then the shard placement moved, by Citus. See moveTenantOnCitus.
 */
export async function moveTenant(options: CitusMoveOptions): Promise<CitusMoveReceipt>
export async function moveTenant(options: MoveTenantOptions | CitusMoveOptions): Promise<MoveReceipt | CitusMoveReceipt> {
  if (isCitusDestination(options.to)) return moveTenantOnCitus(options as CitusMoveOptions)
  return movePlacement(options as MoveTenantOptions)
}

async function movePlacement(options: MoveTenantOptions): Promise<MoveReceipt> {
  const startedAt = new Date()
  const tenantId = parseTenant(options.tenantId, options.parseTenantId)
  const { admin } = options
  const shared = [...(options.sharedSchemas ?? ['public'])]
  const graceMillis = options.graceMillis ?? 86_400_000
  if (!(Number.isFinite(graceMillis) && graceMillis >= 0)) throw new TenantLifecycleError('INVALID_CONFIG', 'graceMillis must be ≥ 0')
  if (shared.length === 0) throw new TenantLifecycleError('INVALID_CONFIG', 'sharedSchemas must name a schema')

  const current = await readEntry(admin, tenantId)
  if (current === undefined) throw new TenantLifecycleError('TENANT_NOT_FOUND', 'The tenant has no directory entry')
  const to = destinationOf(tenantId, options.to)
  const journal = await readMove(admin, tenantId)
  if (journal && journal.phase !== 'frozen' && samePlace(journal.destination, to) && samePlace(current, to) && journal.receipt) {
    // Done by an earlier run whose answer was lost.
    return journal.receipt as MoveReceipt
  }
  const resumed = journal?.phase === 'frozen'
  if (resumed && !samePlace(journal.destination, to)) {
    throw new TenantLifecycleError(
      'MOVE_IN_PROGRESS',
      'A move of the tenant to another place is under way: run it again with its destination',
    )
  }
  const settleMillis = options.settleMillis
  if (settleMillis !== undefined && !(Number.isFinite(settleMillis) && settleMillis >= 0)) {
    throw new TenantLifecycleError('INVALID_CONFIG', 'settleMillis must be ≥ 0')
  }
  const source = resumed ? journal.source : current
  if (!resumed) {
    if (current.state === 'moving') throw new TenantLifecycleError('MOVE_IN_PROGRESS', 'The tenant is already moving')
    if (journal?.phase === 'switched') {
      throw new TenantLifecycleError('MOVE_IN_PROGRESS', "The tenant's last move is not finished: finishMove erases its old copy first")
    }
    if (samePlace(current, to)) throw new TenantLifecycleError('INVALID_CONFIG', 'The tenant already lives there')
  }
  // Before anything changes (checkDestination may provision): an instance whose
  // listener is down, or that has none, is invisible to the freeze.
  const seen = await listeningBackends(admin)
  if (seen.length === 0 && settleMillis === undefined) {
    throw new TenantLifecycleError(
      'NO_LISTENERS',
      "No app instance's directory listens for changes, so none can acknowledge the freeze: pass settleMillis (their directory TTL plus their longest write transaction) to move anyway",
    )
  }
  if (!resumed) await checkDestination(options, tenantId, to, shared)
  const from = { ...source, tenantId }
  const mapping = schemaMapping(from, to, shared)
  const directory = options.directory ?? join(tmpdir(), `tenantscope-move-${tenantId.replace(/[^A-Za-z0-9_-]/g, '_')}`)

  const instances = await freezeWrites(admin, tenantId, {
    timeoutMillis: options.freezeTimeoutMillis ?? 30_000,
    seen,
    freeze: (client) => (resumed ? touch(client, tenantId) : startMove(client, from, to)),
  }).catch(async (error) => {
    // A resumed move's destination may hold a partial import: it goes too.
    if (TenantLifecycleError.is(error, 'FREEZE_TIMEOUT')) await rollBack(options, from, to, resumed)
    throw error
  })
  const frozenAt = Date.now()
  if (settleMillis) await new Promise((resolve) => setTimeout(resolve, settleMillis))

  let imported = resumed
  try {
    await withPlace(options, from, async (client) => {
      await exportTenant({ ...planOf(options, mapping.from), client, tenantId, directory, onProgress: options.onProgress })
      // The freeze held if the rows did not change since the snapshot: a write from outside the routers would show here.
      await checkSourceUnchanged(client, await readArchive(directory), planOf(options, mapping.from))
    })
    const receipt = await withPlace(options, to, (client) =>
      importTenant({
        client,
        directory,
        replace: resumed,
        ...(mapping.into ? { intoSchema: mapping.into } : { schemas: mapping.to }),
        ...(options.parseTenantId ? { parseTenantId: options.parseTenantId } : {}),
        onProgress: options.onProgress,
      }),
    )
    imported = true
    const switchedAt = new Date()
    const result: MoveReceipt = {
      tenantId,
      from,
      to: { ...to, state: from.state },
      // Named as at the destination.
      tables: receipt.tables.map(({ name, rows }) => ({ name: mapping.into ? inSchema(name, mapping.into) : name, rows })),
      rows: receipt.tables.reduce((sum, table) => sum + table.rows, 0),
      instances,
      resumed,
      startedAt: startedAt.toISOString(),
      switchedAt: switchedAt.toISOString(),
      frozenMillis: switchedAt.getTime() - frozenAt,
      wallMillis: switchedAt.getTime() - startedAt.getTime(),
      eraseAfter: new Date(switchedAt.getTime() + graceMillis).toISOString(),
      archive: directory,
    }
    await switchDirectory(admin, result)
    return result
  } catch (error) {
    const why = asInterrupted(
      error,
      'The move was interrupted, and undone: the tenant is unfrozen where it was, the destination emptied. Run the move again.',
    )
    try {
      // The switch may have committed with its answer lost: then it stands, and this is its receipt.
      const switched = await rollBack(options, from, to, imported)
      if (switched) return switched
    } catch (undo) {
      throw new TenantLifecycleError(
        'INTERRUPTED',
        'The move failed and could not be undone: the tenant stays frozen where it was (reads served, writes refused). Run the move again to complete it.',
        { cause: undo },
      )
    }
    throw why
  }
}

function destinationOf(tenantId: string, to: MoveDestination): TenantEntry {
  try {
    return validateEntry({ ...to, tenantId, state: 'active' })
  } catch (error) {
    throw new TenantLifecycleError('INVALID_CONFIG', (error as Error).message)
  }
}

// The tables of a place: a schema tenant's own schema, or the shared schemas.
function schemasOf(entry: TenantEntry, shared: string[]): string[] {
  return entry.strategy === 'schema' ? [entry.schema!] : shared
}

// An archive of one schema goes into another when a schema tenant is on one side.
function schemaMapping(from: TenantEntry, to: TenantEntry, shared: string[]) {
  const fromSchemas = schemasOf(from, shared)
  const toSchemas = schemasOf(to, shared)
  const renamed = from.strategy === 'schema' || to.strategy === 'schema'
  if (renamed && (fromSchemas.length !== 1 || toSchemas.length !== 1)) {
    throw new TenantLifecycleError('INVALID_CONFIG', 'A move to or from a schema tenant needs exactly one shared schema')
  }
  return { from: fromSchemas, to: toSchemas, into: renamed ? toSchemas[0] : undefined }
}

function planOf(options: MoveTenantOptions, schemas: string[]) {
  return {
    schemas,
    ...(options.tenantColumn ? { tenantColumn: options.tenantColumn } : {}),
    ...(options.parseTenantId ? { parseTenantId: options.parseTenantId } : {}),
  }
}

async function withPlace<T>(options: MoveTenantOptions, entry: TenantEntry, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const config = await options.connectionFor(entry)
  const client = new pg.Client(typeof config === 'string' ? { connectionString: config } : config)
  client.on('error', () => undefined)
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end().catch(() => undefined)
  }
}

// Before anything is frozen: nobody else lives there, the place exists (or is made), and it holds no row of the tenant.
async function checkDestination(options: MoveTenantOptions, tenantId: string, to: TenantEntry, shared: string[]): Promise<void> {
  const { rows } = await options.admin.query(
    `SELECT 1 FROM tenantscope.tenant_directory WHERE tenant_id <> $1
        AND ((strategy = 'schema' AND $2 = 'schema' AND schema_name = $3 AND region IS NOT DISTINCT FROM $4)
          OR (strategy = 'database' AND $2 = 'database' AND database_key = $5)) LIMIT 1`,
    [tenantId, to.strategy, to.schema ?? null, to.region ?? null, to.database ?? null],
  )
  if (rows.length > 0) throw new TenantLifecycleError('TENANT_EXISTS', 'Another tenant lives at the destination')
  if (!(await placeExists(options, to))) {
    if (options.provision === undefined) {
      throw new TenantLifecycleError('INVALID_CONFIG', 'The destination schema or database does not exist: make it, or pass provision')
    }
    const regionAdmin = to.strategy === 'schema' && to.region !== undefined ? await poolFor(options, to) : undefined
    try {
      await provisionPlacement(options.admin, to, {
        ...options.provision,
        ...(regionAdmin ? { regionAdmin } : {}),
        connectionFor: options.provision.connectionFor ?? ((entry) => options.connectionFor(entry)),
      })
    } finally {
      await regionAdmin?.end()
    }
  }
  const counts = await withPlace(options, to, (client) => tenantRowCounts(client, tenantId, planOf(options, schemasOf(to, shared))))
  if ([...counts.values()].some((n) => n > 0)) {
    throw new TenantLifecycleError('TENANT_EXISTS', 'The destination already holds rows of the tenant: erase them there first')
  }
}

async function placeExists(options: MoveTenantOptions, to: TenantEntry): Promise<boolean> {
  if (to.strategy === 'pool') return true
  try {
    return await withPlace(options, to, async (client) => {
      if (to.strategy === 'database') return true
      const { rowCount } = await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [to.schema])
      return rowCount === 1
    })
  } catch (error) {
    // 3D000: the database does not exist.
    if ((error as { code?: string }).code === '3D000') return false
    throw error
  }
}

async function poolFor(options: MoveTenantOptions, entry: TenantEntry): Promise<pg.Pool> {
  const config = await options.connectionFor(entry)
  return new pg.Pool({ ...(typeof config === 'string' ? { connectionString: config } : config), max: 1 })
}

// The journal row and the freeze, in one transaction: a move is never frozen without saying where it goes.
async function startMove(client: pg.ClientBase, from: TenantEntry, to: TenantEntry): Promise<string> {
  await client.query('BEGIN')
  try {
    const journal = await client.query(
      `INSERT INTO tenantscope.tenant_moves AS m (tenant_id, source, destination, phase) VALUES ($1, $2, $3, 'frozen')
       ON CONFLICT (tenant_id) DO UPDATE SET source = $2, destination = $3, phase = 'frozen', started_at = now(),
         switched_at = NULL, erase_after = NULL, finished_at = NULL, receipt = NULL
       WHERE m.phase = 'finished'`,
      [from.tenantId, JSON.stringify(from), JSON.stringify(to)],
    )
    const frozen = await client.query<{ version: string }>(
      `UPDATE tenantscope.tenant_directory SET state = 'moving', updated_at = now() WHERE tenant_id = $1 AND state = $2
       RETURNING ${ENTRY_VERSION_SQL} AS version`,
      [from.tenantId, from.state],
    )
    if (journal.rowCount !== 1 || frozen.rowCount !== 1) {
      throw new TenantLifecycleError('MOVE_IN_PROGRESS', 'The tenant changed while the move began: run it again')
    }
    await client.query('COMMIT')
    return frozen.rows[0]!.version
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  }
}

// A rerun: every instance is asked again (their acknowledgements of the first run are gone).
async function touch(client: pg.ClientBase, tenantId: string): Promise<string> {
  const { rows } = await client.query<{ version: string }>(
    `UPDATE tenantscope.tenant_directory SET updated_at = now() WHERE tenant_id = $1 AND state = 'moving'
     RETURNING ${ENTRY_VERSION_SQL} AS version`,
    [tenantId],
  )
  if (rows.length !== 1) throw new TenantLifecycleError('MOVE_IN_PROGRESS', 'The tenant is no longer frozen for this move')
  return rows[0]!.version
}

// The entry points at the destination and the freeze ends, with the journal, in one transaction.
async function switchDirectory(admin: pg.Pool, receipt: MoveReceipt): Promise<void> {
  const client = await admin.connect()
  let broken: Error | undefined
  try {
    await client.query('BEGIN')
    const switched = await client.query(
      `UPDATE tenantscope.tenant_directory SET strategy = $2, schema_name = $3, role_name = $4, database_key = $5, region = $6,
         state = $7, updated_at = now() WHERE tenant_id = $1 AND state = 'moving'`,
      [receipt.tenantId, ...placeColumns(receipt.to), receipt.from.state],
    )
    const journal = await client.query(
      `UPDATE tenantscope.tenant_moves SET phase = 'switched', switched_at = $2, erase_after = $3, receipt = $4
        WHERE tenant_id = $1 AND phase = 'frozen'`,
      [receipt.tenantId, receipt.switchedAt, receipt.eraseAfter, JSON.stringify(receipt)],
    )
    if (switched.rowCount !== 1 || journal.rowCount !== 1) {
      throw new TenantLifecycleError('MOVE_IN_PROGRESS', 'The directory changed during the move')
    }
    await client.query('COMMIT')
  } catch (error) {
    broken = error as Error
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  } finally {
    client.release(TenantLifecycleError.is(broken) ? undefined : broken)
  }
}

/**
 * Back where it was: the destination's copy erased (if it got one), then
 * unfrozen, the journal row gone. First, with the directory row locked (a
 * switch whose COMMIT is still under way is waited for), the journal is read
 * again: a move that switched after all is kept, and its receipt returned;
 * the destination is then the live copy, never erased. The lock is held
 * until the tenant is unfrozen, so nothing switches in between.
 */
async function rollBack(
  options: MoveTenantOptions,
  from: TenantEntry,
  to: TenantEntry,
  imported: boolean,
): Promise<MoveReceipt | undefined> {
  const shared = [...(options.sharedSchemas ?? ['public'])]
  const client = await options.admin.connect()
  let broken: Error | undefined
  try {
    await client.query('BEGIN')
    const entry = await client.query<{ state: string }>(`SELECT state FROM tenantscope.tenant_directory WHERE tenant_id = $1 FOR UPDATE`, [
      from.tenantId,
    ])
    const journal = await readMove(client, from.tenantId)
    if (journal?.phase !== 'frozen' || entry.rows[0]?.state !== 'moving') {
      await client.query('ROLLBACK')
      if (journal && journal.phase !== 'frozen' && samePlace(journal.destination, to) && journal.receipt) {
        return journal.receipt as MoveReceipt
      }
      throw new TenantLifecycleError('MOVE_IN_PROGRESS', 'The directory changed during the move: nothing was undone')
    }
    if (imported) {
      await withPlace(options, to, (place) =>
        // At full speed: the tenant stays frozen until its copy is gone.
        eraseTenant({ ...planOf(options, schemasOf(to, shared)), client: place, tenantId: from.tenantId, force: true, pace: 0 }),
      )
    }
    await client.query(`UPDATE tenantscope.tenant_directory SET state = $2, updated_at = now() WHERE tenant_id = $1 AND state = 'moving'`, [
      from.tenantId,
      from.state,
    ])
    await client.query(`DELETE FROM tenantscope.tenant_moves WHERE tenant_id = $1 AND phase = 'frozen'`, [from.tenantId])
    await client.query('COMMIT')
    return undefined
  } catch (error) {
    broken = error as Error
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  } finally {
    client.release(TenantLifecycleError.is(broken) ? undefined : broken)
  }
}
