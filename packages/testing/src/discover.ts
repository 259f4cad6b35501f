import { loadConstraints, loadRole, loadTenantTables, loadViews } from '@tenantscope/doctor'
import type { KitClient } from './options.js'

/** @internal */
export interface Column {
  name: string
  type: string
  notNull: boolean
  hasDefault: boolean
  /** Identity or generated: never written. */
  automatic: boolean
  /** The base type's name (domains resolved), e.g. `int4`, `varchar`. */
  baseType: string
  category: string
  /** Maximum length for character types, or null. */
  maxLength: number | null
  enumLabels: string[]
}

/** @internal */
export interface ForeignKey {
  name: string
  columns: string[]
  referencedOid: number
  referencedTable: string
  referencedColumns: string[]
}

/** @internal */
export interface KitTable {
  oid: number
  name: string
  columns: Column[]
  foreignKeys: ForeignKey[]
  canSelect: boolean
  canInsert: boolean
  canUpdate: boolean
  canDelete: boolean
  canTruncate: boolean
}

/** @internal */
export interface KitView {
  name: string
  hasTenantColumn: boolean
  tableOids: number[]
}

/**
 * @internal Tables with the tenant column (partitions left out: they are
 * written and read through their parent), with the connected role's
 * privileges, columns and foreign keys. Read through the doctor's catalog.
 */
export async function discoverTables(client: KitClient, tenantColumn: string): Promise<KitTable[]> {
  const role = await loadRole(client)
  const found = await loadTenantTables(client, { tenantColumn, role: role.name, superuser: role.superuser })
  const tables: KitTable[] = found
    .filter((table) => !table.isPartition)
    .map((table) => ({
      oid: table.oid,
      name: table.name,
      columns: [],
      foreignKeys: [],
      canSelect: table.canSelect,
      canInsert: table.canInsert,
      canUpdate: table.canUpdate,
      canDelete: table.canDelete,
      canTruncate: table.canTruncate,
    }))
  const byOid = new Map(tables.map((table) => [table.oid, table]))
  const oids = tables.map((table) => String(table.oid))
  if (oids.length === 0) return tables
  const columns = await client.query(COLUMNS_SQL, [oids])
  for (const row of columns.rows) byOid.get(Number(row.oid))?.columns.push(toColumn(row))
  for (const key of await loadConstraints(client, oids)) {
    if (key.type !== 'f' || key.referencedOid === null || key.referencedTable === null) continue
    byOid.get(key.tableOid)?.foreignKeys.push({
      name: key.name,
      columns: key.columns,
      referencedOid: key.referencedOid,
      referencedTable: key.referencedTable,
      referencedColumns: key.referencedColumns,
    })
  }
  return tables
}

/** @internal The columns of any table (for the parents the tenant column references). */
export async function discoverColumns(client: { query: KitClient['query'] }, oid: number): Promise<Column[]> {
  const { rows } = await client.query(COLUMNS_SQL, [[String(oid)]])
  return rows.map(toColumn)
}

// Domains resolve to their base type; varchar(n)/char(n) keep their length.
const COLUMNS_SQL = `
  SELECT a.attrelid::int8::text AS oid, a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type,
         a.attnotnull AS not_null, a.atthasdef AS has_default, (a.attidentity <> '' OR a.attgenerated <> '') AS automatic,
         coalesce(b.typname, t.typname)::text AS base_type, coalesce(b.typcategory, t.typcategory)::text AS category,
         CASE WHEN coalesce(b.typname, t.typname) IN ('varchar', 'bpchar') AND coalesce(nullif(t.typtypmod, -1), a.atttypmod) > 4
              THEN coalesce(nullif(t.typtypmod, -1), a.atttypmod) - 4 END AS max_length,
         ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = coalesce(b.oid, t.oid) ORDER BY e.enumsortorder) AS enum_labels
    FROM pg_attribute a
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_type b ON t.typtype = 'd' AND b.oid = t.typbasetype
   WHERE a.attrelid = ANY ($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
   ORDER BY a.attrelid, a.attnum`

function toColumn(row: any): Column {
  return {
    name: row.name,
    type: row.type,
    notNull: row.not_null,
    hasDefault: row.has_default,
    automatic: row.automatic,
    baseType: row.base_type,
    category: row.category,
    maxLength: row.max_length === null ? null : Number(row.max_length),
    enumLabels: row.enum_labels,
  }
}

/** @internal Views (not materialized: the doctor reports those) over the given tables, and views over those, that the role may read. */
export async function discoverViews(client: KitClient, tableOids: number[], tenantColumn: string): Promise<KitView[]> {
  const role = await loadRole(client)
  const views = await loadViews(client, tableOids.map(String), { tenantColumn, role: role.name })
  return views
    .filter((view) => view.kind === 'v' && view.canSelect)
    .map((view) => ({ name: view.name, hasTenantColumn: view.hasTenantColumn, tableOids: view.tableOids }))
}
