import { discoverColumns, type KitTable } from './discover.js'
import { generateValue } from './generate-value.js'
import { TenantIsolationError } from './isolation-error.js'
import type { KitAdminPool, KitClient } from './options.js'
import { quoteIdent } from './sql-text.js'

/** @internal A table the tenant column references, such as `tenants (id)`. */
export interface TenantParent {
  oid: number
  name: string
  column: string
}

/** @internal The tables that tenant columns reference: the two throwaway tenants need a row in each. */
export function tenantParents(tables: KitTable[], tenantColumn: string): TenantParent[] {
  const tenantOids = new Set(tables.map((table) => table.oid))
  const parents = new Map<number, TenantParent>()
  for (const table of tables) {
    for (const key of table.foreignKeys) {
      if (key.columns.length === 1 && key.columns[0] === tenantColumn && !tenantOids.has(key.referencedOid)) {
        parents.set(key.referencedOid, { oid: key.referencedOid, name: key.referencedTable, column: key.referencedColumns[0]! })
      }
    }
  }
  return [...parents.values()]
}

/** @internal An INSERT of a generated row whose `column` is `id`. */
export async function parentInsert(db: { query: KitClient['query'] }, parent: TenantParent, id: string): Promise<{ sql: string; values: unknown[] }> {
  const columns = await discoverColumns(db, parent.oid)
  const assigned = new Map<string, unknown>([[parent.column, id]])
  for (const column of columns) {
    if (assigned.has(column.name) || column.automatic || column.hasDefault || !column.notNull) continue
    const value = generateValue(column)
    if (value === undefined) {
      throw new TenantIsolationError('SETUP_FAILED', `Cannot invent a value for ${parent.name}.${column.name} (${column.type}) to create a throwaway tenant: pass tenantIds of tenants that exist`)
    }
    assigned.set(column.name, value)
  }
  const names = [...assigned.keys()]
  const types = new Map(columns.map((column) => [column.name, column.type]))
  return {
    sql: `INSERT INTO ${parent.name} (${names.map(quoteIdent).join(', ')}) VALUES (${names.map((name, index) => `$${index + 1}::${types.get(name)}`).join(', ')})`,
    values: names.map((name) => assigned.get(name)),
  }
}

/** @internal Creates the tenant rows with the admin pool (committed); returns how to delete them. */
export async function createWithAdmin(admin: KitAdminPool, parents: TenantParent[], ids: readonly string[]): Promise<() => Promise<void>> {
  const created: { parent: TenantParent; id: string }[] = []
  const remove = async () => {
    for (const { parent, id } of created.reverse()) {
      await admin.query(`DELETE FROM ${parent.name} WHERE ${quoteIdent(parent.column)}::text = $1`, [id]).catch(() => undefined)
    }
  }
  try {
    for (const parent of parents) {
      for (const id of ids) {
        const insert = await parentInsert(admin, parent, id)
        await admin.query(insert.sql, insert.values)
        created.push({ parent, id })
      }
    }
  } catch (error) {
    await remove()
    if (TenantIsolationError.is(error)) throw error
    throw new TenantIsolationError('SETUP_FAILED', `adminPool could not create the throwaway tenants: ${(error as Error).message}`, { cause: error })
  }
  return remove
}
