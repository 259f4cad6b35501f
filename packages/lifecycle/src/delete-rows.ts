import type pg from 'pg'
import type { PlannedTable } from './tenant-plan.js'

/**
 * @internal Deletes the tenant's rows of `table`, at most `limit` of them
 * (all when undefined), inside the caller's transaction, which must carry
 * the tenant setting. Rows are picked by (tableoid, ctid), which is unique
 * in a partitioned table too.
 */
export async function deleteBatch(client: pg.ClientBase, table: PlannedTable, limit?: number): Promise<number> {
  const picked = `SELECT t.tableoid, t.ctid FROM ${table.name} t WHERE ${table.filter}${limit === undefined ? '' : ` LIMIT ${Math.floor(limit)}`}`
  const result = await client.query(`DELETE FROM ${table.name} d WHERE (d.tableoid, d.ctid) IN (${picked})`)
  return result.rowCount ?? 0
}

/** @internal Every row of the tenant, children first, in the caller's transaction. */
export async function deleteTenantRows(client: pg.ClientBase, tables: readonly PlannedTable[]): Promise<number> {
  let deleted = 0
  for (const table of [...tables].reverse()) deleted += await deleteBatch(client, table)
  return deleted
}
