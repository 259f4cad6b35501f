import type pg from 'pg'
import type { PlannedTable } from './tenant-plan.js'

/**
 * @internal Deletes the tenant's rows of `table`, at most `limit` of them
 * (all when undefined), inside the caller's transaction, which must carry
 * the tenant setting.
 *
 * A batch picks its rows' ctids first (`ARRAY(SELECT ... LIMIT n)`, one
 * InitPlan) and deletes them by a TID scan, with the tenant filter checked
 * again on each row: whatever a ctid points at, only the tenant's rows go.
 * In a partitioned table a ctid repeats across partitions, so a batch there
 * may take up to `limit` rows per partition, all of them the tenant's.
 *
 * Bitmap scans are off for the batch (SET LOCAL): a bitmap index scan reads
 * every index entry of the tenant before LIMIT applies, so each of the
 * erase's batches would read all the rows still left (quadratic: 9.6 s of
 * the 13 s a 1M-row erase took). A plain index scan stops after `limit`.
 */
export async function deleteBatch(client: pg.ClientBase, table: PlannedTable, limit?: number): Promise<number> {
  if (limit === undefined) return (await client.query(`DELETE FROM ${table.name} t WHERE ${table.filter}`)).rowCount ?? 0
  await client.query('SET LOCAL enable_bitmapscan = off')
  const picked = `SELECT t.ctid FROM ${table.name} t WHERE ${table.filter} LIMIT ${Math.floor(limit)}`
  const result = await client.query(`DELETE FROM ${table.name} t WHERE t.ctid = ANY (ARRAY(${picked})) AND ${table.filter}`)
  return result.rowCount ?? 0
}

/** @internal Every row of the tenant, children first, in the caller's transaction. */
export async function deleteTenantRows(client: pg.ClientBase, tables: readonly PlannedTable[]): Promise<number> {
  let deleted = 0
  for (const table of [...tables].reverse()) deleted += await deleteBatch(client, table)
  return deleted
}
