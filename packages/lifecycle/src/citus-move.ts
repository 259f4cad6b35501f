import type { TenantIdParser } from '@tenantscope/core'
import type pg from 'pg'
import { TenantLifecycleError } from './lifecycle-error.js'
import { readEntry } from './move-journal.js'
import type { OnProgress } from './progress.js'
import { parseTenant } from './tenant-id.js'

/** A move of a pool tenant between the worker nodes of a Citus cluster. */
export interface CitusNodeDestination {
  /** An active worker node, `host:port` as Citus names it (`citus_get_active_worker_nodes()`). */
  citusNode: string
  /**
   * How Citus copies the shards. 'block_writes' (the default) works on every
   * cluster: the tenant's writes wait while its shards are split and copied
   * (statements that met a shard as it moved fail with core's retryable
   * CITUS_SHARD_MOVED); reads go on.
   * @default 'block_writes'
   */
  transferMode?: 'block_writes' | 'auto' | 'force_logical'
}

export interface CitusMoveOptions {
  /** The Citus coordinator (its tenantscope.tenant_directory, if any), as a role that may split and move shards. Two connections: one polls progress. */
  admin: pg.Pool
  tenantId: string
  to: CitusNodeDestination
  /** The distribution column of the tenant's tables. @default 'tenant_id' */
  tenantColumn?: string
  /** @default uuidTenantId */
  parseTenantId?: TenantIdParser
  /** `isolate` per colocation group, then `move` about once a second with the bytes copied (`rows` stays 0). */
  onProgress?: OnProgress
  /** @default 1000 */
  progressIntervalMillis?: number
}

/** What a move between Citus nodes did, per colocation group of the tenant's tables. */
export interface CitusMoveReceipt {
  tenantId: string
  to: string
  groups: {
    /** The group's tables distributed by the tenant column. */
    tables: string[]
    shardId: number
    from: string
    /** This run split the tenant off into a shard of its own. */
    isolated: boolean
    /** This run moved the shard (false: it was already there, e.g. a rerun). */
    moved: boolean
  }[]
  startedAt: string
  wallMillis: number
}

const MODES = ['block_writes', 'auto', 'force_logical']

/** @internal `to` names a Citus node rather than a directory placement. */
export function isCitusDestination(to: unknown): to is CitusNodeDestination {
  return typeof to === 'object' && to !== null && 'citusNode' in to
}

/**
 * Moves a pool tenant to another worker of a Citus cluster through Citus's
 * own path: for each colocation group of its tables, the tenant is isolated
 * into a shard of its own (`isolate_tenant_to_new_shard` CASCADE) unless it
 * has one, then that shard's placement moves (`citus_move_shard_placement`).
 * Rerunnable: an isolated tenant is not split again, a shard already on the
 * node is not moved; an interrupted Citus operation is cleaned up by Citus.
 */
export async function moveTenantOnCitus(options: CitusMoveOptions): Promise<CitusMoveReceipt> {
  const started = new Date()
  const tenantId = parseTenant(options.tenantId, options.parseTenantId)
  const { admin, onProgress } = options
  const column = options.tenantColumn ?? 'tenant_id'
  const mode = options.to.transferMode ?? 'block_writes'
  if (!MODES.includes(mode)) throw new TenantLifecycleError('INVALID_CONFIG', `transferMode must be one of ${MODES.join(', ')}`)
  const target = parseNode(options.to.citusNode)

  const citus = await admin.query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`)
  if (citus.rowCount !== 1)
    throw new TenantLifecycleError('INVALID_CONFIG', 'This database has no citus extension: connect to the Citus coordinator')
  const nodes = await admin.query<{ node_name: string; node_port: number }>(
    `SELECT node_name, node_port FROM citus_get_active_worker_nodes()`,
  )
  if (!nodes.rows.some((n) => n.node_name === target.host && Number(n.node_port) === target.port)) {
    throw new TenantLifecycleError('NODE_NOT_FOUND', 'No active Citus worker node is at that host and port')
  }
  const directory = await admin.query(`SELECT to_regclass('tenantscope.tenant_directory') IS NOT NULL AS present`)
  if (directory.rows[0]?.present) {
    const entry = await readEntry(admin, tenantId)
    if (entry && entry.strategy !== 'pool') {
      throw new TenantLifecycleError(
        'INVALID_CONFIG',
        'Only a pool tenant moves between Citus nodes (the directory places this one elsewhere)',
      )
    }
    if (entry?.state === 'moving') throw new TenantLifecycleError('MOVE_IN_PROGRESS', 'The tenant is already moving')
  }
  const groups = await tenantGroups(admin, column)
  if (groups.length === 0) throw new TenantLifecycleError('INVALID_CONFIG', `No table is distributed by ${column}`)
  if (!(await holdsRows(admin, groups, column, tenantId))) {
    throw new TenantLifecycleError('TENANT_NOT_FOUND', 'No table holds a row of this tenant')
  }

  const receipt: CitusMoveReceipt = {
    tenantId,
    to: `${target.host}:${target.port}`,
    groups: [],
    startedAt: started.toISOString(),
    wallMillis: 0,
  }
  for (const [index, tables] of groups.entries()) {
    const table = tables[0]!
    const step = (phase: 'isolate' | 'move', bytes = 0, totalBytes = 0) =>
      onProgress?.({ phase, table, index: index + 1, total: groups.length, rows: 0, bytes, totalBytes })
    let shard = await shardOf(admin, table, tenantId)
    const from = `${shard.host}:${shard.port}`
    const isolated = !shard.isolated
    if (isolated) {
      await step('isolate')
      await admin.query(
        `SELECT isolate_tenant_to_new_shard($1::regclass, $2::text, 'CASCADE', shard_transfer_mode => $3::citus.shard_transfer_mode)`,
        [table, tenantId, mode],
      )
      shard = await shardOf(admin, table, tenantId)
    }
    const moved = !(shard.host === target.host && shard.port === target.port)
    if (moved) {
      await step('move')
      await withProgress(
        admin,
        shard.shardId,
        options.progressIntervalMillis ?? 1000,
        (bytes, total) => step('move', bytes, total),
        () =>
          admin.query(`SELECT citus_move_shard_placement($1, $2, $3, $4, $5, shard_transfer_mode => $6::citus.shard_transfer_mode)`, [
            shard.shardId,
            shard.host,
            shard.port,
            target.host,
            target.port,
            mode,
          ]),
      )
    }
    receipt.groups.push({ tables, shardId: shard.shardId, from, isolated, moved })
  }
  receipt.wallMillis = Date.now() - started.getTime()
  return receipt
}

function parseNode(node: unknown): { host: string; port: number } {
  const match = typeof node === 'string' ? /^(.+):(\d{1,5})$/.exec(node) : null
  const port = match ? Number(match[2]) : 0
  if (!match || port < 1 || port > 65_535) throw new TenantLifecycleError('INVALID_CONFIG', 'citusNode must be host:port')
  return { host: match[1]!, port }
}

// The tables distributed by the tenant column, one list per colocation group (a group's shards split and move together).
async function tenantGroups(admin: pg.Pool, column: string): Promise<string[][]> {
  const { rows } = await admin.query<{ tables: string[] }>(
    `SELECT array_agg(table_name::text ORDER BY table_name::text) AS tables FROM citus_tables
      WHERE citus_table_type = 'distributed' AND distribution_column = $1
      GROUP BY colocation_id ORDER BY min(table_name::text)`,
    [column],
  )
  return rows.map((row) => row.tables)
}

// One routed probe per table (the parameter takes the column's type), until a row is found.
async function holdsRows(admin: pg.Pool, groups: string[][], column: string, tenantId: string): Promise<boolean> {
  const quoted = `"${column.replace(/"/g, '""')}"`
  for (const table of groups.flat()) {
    const { rows } = await admin.query(`SELECT EXISTS (SELECT 1 FROM ${table} WHERE ${quoted} = $1) AS found`, [tenantId])
    if (rows[0]?.found === true) return true
  }
  return false
}

async function shardOf(admin: pg.Pool, table: string, tenantId: string) {
  const { rows } = await admin.query<{ shardid: string; nodename: string; nodeport: number; isolated: boolean }>(
    `SELECT s.shardid, p.nodename, p.nodeport, s.shardminvalue = s.shardmaxvalue AS isolated
       FROM pg_dist_shard s JOIN pg_dist_shard_placement p ON p.shardid = s.shardid
      WHERE s.shardid = get_shard_id_for_distribution_column($1::regclass, $2::text)`,
    [table, tenantId],
  )
  const row = rows[0]
  if (!row) throw new TenantLifecycleError('INVALID_CONFIG', `No placement for the tenant's shard of ${table}`)
  return { shardId: Number(row.shardid), host: row.nodename, port: Number(row.nodeport), isolated: row.isolated }
}

// The move holds one of the pool's connections; another reads how far the copy has come.
async function withProgress<T>(
  admin: pg.Pool,
  shardId: number,
  intervalMillis: number,
  report: (bytes: number, total: number) => unknown,
  work: () => Promise<T>,
): Promise<T> {
  let done = false
  const polling = (async () => {
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, intervalMillis))
      if (done) break
      try {
        const { rows } = await admin.query<{ source_shard_size: string; target_shard_size: string }>(
          `SELECT source_shard_size, target_shard_size FROM get_rebalance_progress() WHERE shardid = $1`,
          [shardId],
        )
        if (rows[0] && !done) await report(Number(rows[0].target_shard_size), Number(rows[0].source_shard_size))
      } catch {
        // progress is a display: never allowed to break the move
      }
    }
  })()
  try {
    return await work()
  } finally {
    done = true
    await polling
  }
}
