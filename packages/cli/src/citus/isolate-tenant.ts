import { CitusAdminError } from './citus-error.js'
import { type CitusQueryable, type ShardTransferMode, TRANSFER_MODES } from './citus-queryable.js'
import { findTenantShard, type TenantShard } from './tenant-shard.js'

export interface IsolateTenantOptions {
  /**
   * How the split copies rows. 'block_writes' (the default) works on every
   * cluster: the tenant's writes wait (they are not refused) while its shard
   * is split; reads go on.
   * @default 'block_writes'
   */
  transferMode?: ShardTransferMode
}

export interface IsolateTenantResult {
  /** False when the tenant already had a shard of its own. */
  readonly changed: boolean
  readonly shard: TenantShard
}

/**
 * Gives a tenant a shard of its own (`isolate_tenant_to_new_shard` with
 * CASCADE: every colocated table's shard is split with it), on the node its
 * old shard was on. Run it before moving a big tenant to a node of its own
 * (moveTenant). Idempotent: an isolated tenant is left as it is.
 * @example await isolateTenant(adminPool, 'projects', tenantId)
 */
export async function isolateTenant(
  db: CitusQueryable,
  table: string,
  tenantId: string,
  options: IsolateTenantOptions = {},
): Promise<IsolateTenantResult> {
  const mode = options.transferMode ?? 'block_writes'
  if (!TRANSFER_MODES.includes(mode)) {
    throw new CitusAdminError('INVALID_OPTION', `transfer mode must be one of ${TRANSFER_MODES.join(', ')}`)
  }
  const before = await findTenantShard(db, table, tenantId)
  if (before.isolated) return { changed: false, shard: before }
  await db.query(
    `SELECT isolate_tenant_to_new_shard($1::regclass, $2::text, 'CASCADE', shard_transfer_mode => $3::citus.shard_transfer_mode)`,
    [table, tenantId, mode],
  )
  return { changed: true, shard: await findTenantShard(db, table, tenantId) }
}
