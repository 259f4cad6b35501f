import type { KitClient } from './options.js'
import { VIEWS_OVER_TABLES } from 'tenantscope'

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

/** @internal Tables with the tenant column, their columns and foreign keys. */
export async function discoverTables(client: KitClient, tenantColumn: string): Promise<KitTable[]> {
  const { rows } = await client.query(
    `SELECT c.oid::int8::text AS oid, format('%I.%I', n.nspname, c.relname) AS name,
            has_table_privilege(c.oid, 'SELECT') AS can_select, has_table_privilege(c.oid, 'INSERT') AS can_insert,
            has_table_privilege(c.oid, 'UPDATE') AS can_update, has_table_privilege(c.oid, 'DELETE') AS can_delete,
            -- An owner may always TRUNCATE: that is reported as ownership by the catalog checks.
            (has_table_privilege(c.oid, 'TRUNCATE') AND NOT pg_has_role(c.relowner, 'MEMBER')) AS can_truncate
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tenantscope') AND n.nspname !~ '^pg_(toast|temp_)'
        AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = $1 AND NOT a.attisdropped)
      ORDER BY 2`,
    [tenantColumn],
  )
  const tables: KitTable[] = rows.map((row) => ({
    oid: Number(row.oid),
    name: row.name,
    columns: [],
    foreignKeys: [],
    canSelect: row.can_select,
    canInsert: row.can_insert,
    canUpdate: row.can_update,
    canDelete: row.can_delete,
    canTruncate: row.can_truncate,
  }))
  const byOid = new Map(tables.map((table) => [table.oid, table]))
  const oids = tables.map((table) => String(table.oid))
  if (oids.length === 0) return tables
  const columns = await client.query(COLUMNS_SQL, [oids])
  for (const row of columns.rows) byOid.get(Number(row.oid))?.columns.push(toColumn(row))
  const keys = await client.query(
    `SELECT con.conname::text AS name, con.conrelid::int8::text AS oid, con.confrelid::int8::text AS referenced_oid,
            format('%I.%I', n.nspname, p.relname) AS referenced_table,
            ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
            ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS referenced_columns
       FROM pg_constraint con
       JOIN pg_class p ON p.oid = con.confrelid
       JOIN pg_namespace n ON n.oid = p.relnamespace
      WHERE con.contype = 'f' AND con.conrelid = ANY ($1::oid[])
      ORDER BY con.conname`,
    [oids],
  )
  for (const row of keys.rows) {
    byOid.get(Number(row.oid))?.foreignKeys.push({
      name: row.name,
      columns: row.columns,
      referencedOid: Number(row.referenced_oid),
      referencedTable: row.referenced_table,
      referencedColumns: row.referenced_columns,
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

/** @internal Views (not materialized: the doctor reports those) over the given tables, and views over those. */
export async function discoverViews(client: KitClient, tableOids: number[], tenantColumn: string): Promise<KitView[]> {
  if (tableOids.length === 0) return []
  const { rows } = await client.query(
    `${VIEWS_OVER_TABLES}
     SELECT format('%I.%I', n.nspname, v.relname) AS name,
            EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = v.oid AND a.attname = $2 AND NOT a.attisdropped) AS has_tenant_column,
            array_agg(DISTINCT over.table_oid::int8::text) AS table_oids
       FROM over
       JOIN pg_class v ON v.oid = over.view_oid
       JOIN pg_namespace n ON n.oid = v.relnamespace
      WHERE v.relkind = 'v' AND has_table_privilege(v.oid, 'SELECT')
        AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tenantscope')
      GROUP BY v.oid, n.nspname, v.relname
      ORDER BY 1`,
    [tableOids.map(String), tenantColumn],
  )
  return rows.map((row) => ({ name: row.name, hasTenantColumn: row.has_tenant_column, tableOids: (row.table_oids as string[]).map(Number) }))
}
