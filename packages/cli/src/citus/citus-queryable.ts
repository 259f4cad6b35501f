/**
 * What the Citus tenant commands run on: a pg.Client, a pg.Pool or a
 * PoolClient connected to the coordinator as a role that may move shards
 * (a superuser or the table owner), never the application's tenant pool.
 */
export interface CitusQueryable {
  query<R extends Record<string, unknown> = Record<string, any>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>
}

/** How Citus copies a shard: 'block_writes' works everywhere; the logical modes need logical replication set up. */
export type ShardTransferMode = 'block_writes' | 'auto' | 'force_logical'

export const TRANSFER_MODES: readonly ShardTransferMode[] = ['block_writes', 'auto', 'force_logical']
