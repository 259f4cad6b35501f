import { CitusAdminError } from './citus-error.js'
import type { CitusQueryable } from './citus-queryable.js'

/** Where one tenant's rows of a distributed table live. */
export interface TenantShard {
  readonly shardId: number
  readonly nodeName: string
  readonly nodePort: number
  /** True when the shard holds this tenant only (after isolateTenant). */
  readonly isolated: boolean
  /** The tables whose shards move with this one (its colocation group), this one included. */
  readonly colocatedTables: readonly string[]
}

/** Reads where `tenantId`'s rows of `table` live. Only reads the metadata. */
export async function findTenantShard(db: CitusQueryable, table: string, tenantId: string): Promise<TenantShard> {
  await assertCitus(db)
  const distributed = await db.query<{ distributed: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = to_regclass($1) AND partmethod = 'h') AS distributed`,
    [table],
  )
  if (!distributed.rows[0]?.distributed) {
    throw new CitusAdminError(
      'NOT_DISTRIBUTED',
      `${table} is not a table distributed by a column (see tenantscope.distribute_tenant_table)`,
    )
  }
  const { rows } = await db.query<{ shardid: string; nodename: string; nodeport: number; isolated: boolean; colocated: string[] }>(
    `WITH s AS (SELECT get_shard_id_for_distribution_column($1::regclass, $2::text) AS shardid)
     SELECT s.shardid, p.nodename, p.nodeport,
            ps.shardminvalue = ps.shardmaxvalue AS isolated,
            ARRAY(SELECT t.logicalrelid::regclass::text FROM pg_dist_partition t
                   WHERE t.colocationid = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = $1::regclass)
                   ORDER BY 1) AS colocated
       FROM s
       JOIN pg_dist_shard ps ON ps.shardid = s.shardid
       JOIN pg_dist_shard_placement p ON p.shardid = s.shardid`,
    [table, tenantId],
  )
  const row = rows[0]
  if (!row) throw new CitusAdminError('NOT_DISTRIBUTED', `no placement for the shard of this tenant in ${table}`)
  return {
    shardId: Number(row.shardid),
    nodeName: row.nodename,
    nodePort: Number(row.nodeport),
    isolated: row.isolated,
    colocatedTables: row.colocated,
  }
}

/** @internal */
export async function assertCitus(db: CitusQueryable): Promise<void> {
  const { rows } = await db.query<{ citus: boolean }>(`SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus`)
  if (!rows[0]?.citus) throw new CitusAdminError('NOT_CITUS', 'this database has no citus extension (connect to the Citus coordinator)')
}
