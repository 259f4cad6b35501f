import { discoverColumns, type KitTable } from './discover.js'
import { generateValue } from './generate-value.js'
import { TenantIsolationError } from './isolation-error.js'
import type { KitAdminPool, KitClient } from './options.js'
import { parentsFirst } from './parents-first.js'
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

/** @internal One INSERT of a generated row per id, its `column` set to the id (the columns are read once). */
export async function parentInserts(
  db: { query: KitClient['query'] },
  parent: TenantParent,
  ids: readonly string[],
): Promise<{ id: string; sql: string; values: unknown[] }[]> {
  const columns = await discoverColumns(db, parent.oid)
  const types = new Map(columns.map((column) => [column.name, column.type]))
  return ids.map((id) => {
    const assigned = new Map<string, unknown>([[parent.column, id]])
    for (const column of columns) {
      if (assigned.has(column.name) || column.automatic || column.hasDefault || !column.notNull) continue
      const value = generateValue(column)
      if (value === undefined) {
        throw new TenantIsolationError(
          'SETUP_FAILED',
          `Cannot invent a value for ${parent.name}.${column.name} (${column.type}) to create a throwaway tenant: pass tenantIds of tenants that exist`,
        )
      }
      assigned.set(column.name, value)
    }
    const names = [...assigned.keys()]
    return {
      id,
      sql: `INSERT INTO ${parent.name} (${names.map(quoteIdent).join(', ')}) VALUES (${names.map((name, index) => `$${index + 1}::${types.get(name)}`).join(', ')})`,
      values: names.map((name) => assigned.get(name)),
    }
  })
}

/** @internal Creates the tenant rows with the admin pool (committed); returns how to delete them. */
export async function createWithAdmin(
  admin: KitAdminPool,
  parents: TenantParent[],
  ids: readonly string[],
  context: { tables: KitTable[]; tenantColumn: string; setting: string } = {
    tables: [],
    tenantColumn: 'tenant_id',
    setting: 'app.current_tenant',
  },
): Promise<() => Promise<void>> {
  const created: { parent: TenantParent; id: string }[] = []
  const remove = async () => {
    const failed: string[] = []
    for (const { parent, id } of created.reverse()) {
      const plain = await admin.query(`DELETE FROM ${parent.name} WHERE ${quoteIdent(parent.column)}::text = $1`, [id]).then(
        () => undefined,
        (error: Error) => error,
      )
      if (!plain) continue
      // Something (a trigger, the database's own defaults) wrote rows for the tenant that still
      // reference it: delete the tenant's rows from every tenant table, children first, with the
      // tenant set (policies may apply to the admin role too), and the tenant row, in one transaction.
      const cascade = await admin.query(cascadeSql(parent, id, context)).then(
        () => undefined,
        (error: Error) => error,
      )
      if (cascade)
        failed.push(`${parent.name} ${parent.column} = ${id}: ${plain.message}; deleting its rows first failed too: ${cascade.message}`)
    }
    if (failed.length > 0) {
      throw new TenantIsolationError(
        'CLEANUP_FAILED',
        `adminPool could not delete the throwaway tenants, which are left committed: ${failed.join('; ')}`,
      )
    }
  }
  try {
    for (const parent of parents) {
      for (const insert of await parentInserts(admin, parent, ids)) {
        await admin.query(insert.sql, insert.values)
        created.push({ parent, id: insert.id })
      }
    }
  } catch (error) {
    await remove().catch(() => undefined) // the setup error says more
    if (TenantIsolationError.is(error)) throw error
    throw new TenantIsolationError('SETUP_FAILED', `adminPool could not create the throwaway tenants: ${(error as Error).message}`, {
      cause: error,
    })
  }
  return remove
}

// One simple-protocol string: its statements run as one implicit transaction, so the
// transaction-local setting applies to every DELETE and any failure undoes them all.
function cascadeSql(parent: TenantParent, id: string, context: { tables: KitTable[]; tenantColumn: string; setting: string }): string {
  const value = literal(id)
  const statements = [`SELECT set_config(${literal(context.setting)}, ${value}, true)`]
  for (const table of parentsFirst(context.tables, context.tables, (table) => table.foreignKeys).reverse()) {
    statements.push(`DELETE FROM ${table.name} WHERE ${quoteIdent(context.tenantColumn)}::text = ${value}`)
  }
  statements.push(`DELETE FROM ${parent.name} WHERE ${quoteIdent(parent.column)}::text = ${value}`)
  return statements.join(';\n')
}

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}
