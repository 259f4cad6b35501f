import { attempt } from './attempt.js'
import type { Column, KitTable } from './discover.js'
import { generateValue } from './generate-value.js'
import type { KitClient, RowFactory } from './options.js'
import { quoteIdent } from './sql-text.js'

/** @internal A row the kit wrote, with where to find it again. */
export interface WrittenRow {
  tableoid: string
  ctid: string
  values: Record<string, unknown>
}

/** @internal */
export type Built = { ok: true; sql: string; values: unknown[] } | { ok: false; reason: string }

/**
 * @internal An INSERT for one generated row of `table` for `tenantId`:
 * the tenant column set, foreign keys to other tenant tables pointing at
 * the rows written for the same tenant, other required columns invented
 * from their type, a factory's values on top.
 */
export async function buildInsert(
  client: KitClient,
  context: {
    table: KitTable
    tenantColumn: string
    tenantId: string
    tenantOids: Set<number>
    written: (oid: number) => WrittenRow | undefined
    factory: RowFactory | undefined
  },
  returning: boolean,
): Promise<Built> {
  const { table, tenantColumn, tenantId } = context
  const assigned = new Map<string, unknown>()
  assigned.set(tenantColumn, tenantId)
  for (const key of requiredTenantKeys(table, tenantColumn, context.tenantOids)) {
    const parent = context.written(key.referencedOid)
    if (!parent) return { ok: false, reason: `needs a row in ${key.referencedTable} (foreign key ${key.name}), which could not be written` }
    key.columns.forEach((column, index) => {
      if (column !== tenantColumn) assigned.set(column, parent.values[key.referencedColumns[index]!])
    })
  }
  const overrides = context.factory?.({ tenantId }) ?? {}
  for (const name of Object.keys(overrides)) {
    if (!table.columns.some((column) => column.name === name))
      return { ok: false, reason: `the factory sets ${name}, which is not a column of the table` }
  }
  for (const column of table.columns) {
    if (assigned.has(column.name) || column.name in overrides || column.automatic || column.hasDefault || !column.notNull) continue
    const reference = table.foreignKeys.find((key) => key.columns.includes(column.name))
    if (reference && !context.tenantOids.has(reference.referencedOid)) {
      // A lookup table shared by all tenants: use a row that exists.
      const existing = await attempt(
        client,
        `SELECT ${reference.referencedColumns.map(quoteIdent).join(', ')} FROM ${reference.referencedTable} LIMIT 1`,
      )
      if (!existing.ok || existing.rows.length === 0) {
        return {
          ok: false,
          reason: `column ${column.name} references ${reference.referencedTable}, which has no row the role can read: pass a factory`,
        }
      }
      reference.columns.forEach((name, index) => assigned.set(name, existing.rows[0][reference.referencedColumns[index]!]))
      continue
    }
    const value = generateValue(column)
    if (value === undefined)
      return { ok: false, reason: `cannot invent a value for column ${column.name} (${column.type}): pass a factory` }
    assigned.set(column.name, value)
  }
  for (const [name, value] of Object.entries(overrides)) assigned.set(name, value)

  const columns = [...assigned.keys()]
  const types = new Map(table.columns.map((column) => [column.name, column.type]))
  const placeholders = columns.map((name, index) => `$${index + 1}::${types.get(name)}`)
  const sql =
    `INSERT INTO ${table.name} (${columns.map(quoteIdent).join(', ')}) VALUES (${placeholders.join(', ')})` +
    (returning ? ` RETURNING tableoid::int8::text AS "__tenantscope_tableoid", ctid::text AS "__tenantscope_ctid", *` : '')
  return { ok: true, sql, values: columns.map((name) => assigned.get(name)) }
}

/** @internal Foreign keys to other tenant tables whose columns are all NOT NULL: a parent row is needed. */
export function requiredTenantKeys(table: KitTable, tenantColumn: string, tenantOids: Set<number>) {
  const notNull = (name: string) => table.columns.find((column: Column) => column.name === name)?.notNull ?? false
  return table.foreignKeys.filter(
    (key) =>
      tenantOids.has(key.referencedOid) &&
      key.referencedOid !== table.oid &&
      key.columns.some((name) => name !== tenantColumn) &&
      key.columns.every(notNull),
  )
}
