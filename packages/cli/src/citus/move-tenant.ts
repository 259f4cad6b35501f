import { CitusAdminError } from './citus-error.js'
import { type CitusQueryable, type ShardTransferMode, TRANSFER_MODES } from './citus-queryable.js'
import { findTenantShard, type TenantShard } from './tenant-shard.js'

export interface MoveProgress {
  readonly shardId: number
  /** Bytes of the shard on the source node, and copied so far to the target (get_rebalance_progress). */
  readonly sourceBytes: number
  readonly targetBytes: number
  readonly elapsedMs: number
}

export interface MoveTenantOptions {
  /** The node to move to; by default the active worker other than the current one with the fewest shards. */
  to?: { host: string; port: number }
  /**
   * 'block_writes' (the default): the tenant's writes wait while the shard
   * is copied, reads go on; nothing is refused. The logical modes keep
   * writes flowing but need `wal_level = logical` and replica identities.
   * @default 'block_writes'
   */
  transferMode?: ShardTransferMode
  /**
   * Called about once a second while the shard is copied, with the bytes
   * copied so far. Needs `progressDb`: the move holds its own connection.
   */
  onProgress?: (progress: MoveProgress) => void
  /** A second connection (or a pool) to read progress on while the move runs. */
  progressDb?: CitusQueryable
  /** @default 1000 */
  progressIntervalMs?: number
}

export interface MoveTenantResult {
  readonly changed: boolean
  readonly from: TenantShard
  readonly to: TenantShard
}

/**
 * Moves the shard that holds a tenant (and its colocated shards) to another
 * worker with `citus_move_shard_placement`. A shard shared with other
 * tenants moves them too: isolate the tenant first (isolateTenant) to move
 * only its rows.
 * @example await moveTenant(adminPool, 'projects', tenantId, { onProgress: (p) => console.log(p.targetBytes) , progressDb: adminPool })
 */
export async function moveTenant(
  db: CitusQueryable,
  table: string,
  tenantId: string,
  options: MoveTenantOptions = {},
): Promise<MoveTenantResult> {
  const mode = options.transferMode ?? 'block_writes'
  if (!TRANSFER_MODES.includes(mode)) {
    throw new CitusAdminError('INVALID_OPTION', `transfer mode must be one of ${TRANSFER_MODES.join(', ')}`)
  }
  const from = await findTenantShard(db, table, tenantId)
  const target = options.to ?? (await leastLoadedOtherWorker(db, from))
  if (target.host === from.nodeName && target.port === from.nodePort) return { changed: false, from, to: from }

  const started = Date.now()
  let polling: Promise<void> | undefined
  let done = false
  if (options.onProgress && options.progressDb) {
    const progressDb = options.progressDb
    const onProgress = options.onProgress
    const interval = options.progressIntervalMs ?? 1000
    polling = (async () => {
      while (!done) {
        await new Promise((resolve) => setTimeout(resolve, interval))
        if (done) break
        const { rows } = await progressDb
          .query<{ source_shard_size: string; target_shard_size: string }>(
            `SELECT source_shard_size, target_shard_size FROM get_rebalance_progress() WHERE shardid = $1`,
            [from.shardId],
          )
          .catch(() => ({ rows: [] as { source_shard_size: string; target_shard_size: string }[] }))
        const row = rows[0]
        onProgress({
          shardId: from.shardId,
          sourceBytes: Number(row?.source_shard_size ?? 0),
          targetBytes: Number(row?.target_shard_size ?? 0),
          elapsedMs: Date.now() - started,
        })
      }
    })()
  }
  try {
    await db.query(`SELECT citus_move_shard_placement($1, $2, $3, $4, $5, shard_transfer_mode => $6::citus.shard_transfer_mode)`, [
      from.shardId,
      from.nodeName,
      from.nodePort,
      target.host,
      target.port,
      mode,
    ])
  } finally {
    done = true
    await polling
  }
  return { changed: true, from, to: await findTenantShard(db, table, tenantId) }
}

async function leastLoadedOtherWorker(db: CitusQueryable, from: TenantShard): Promise<{ host: string; port: number }> {
  const { rows } = await db.query<{ node_name: string; node_port: number }>(
    `SELECT w.node_name, w.node_port
       FROM citus_get_active_worker_nodes() w
      WHERE NOT (w.node_name = $1 AND w.node_port = $2)
      ORDER BY (SELECT count(*) FROM pg_dist_shard_placement p WHERE p.nodename = w.node_name AND p.nodeport = w.node_port), 1, 2
      LIMIT 1`,
    [from.nodeName, from.nodePort],
  )
  const row = rows[0]
  if (!row) throw new CitusAdminError('NO_TARGET_NODE', 'no active worker other than the one this tenant is on')
  return { host: row.node_name, port: Number(row.node_port) }
}
