import type pg from 'pg'
import { TenantLifecycleError } from './lifecycle-error.js'
import { TENANT_SETTING } from './session-settings.js'

/** A column as COPY writes it. */
export interface PlannedColumn {
  name: string
  /** `format_type`: `uuid`, `character(3)`, `timestamp with time zone`, ... */
  type: string
}

/** One table that holds rows of a tenant, and how they are found. */
export interface PlannedTable {
  /** `schema.table`, quoted where PostgreSQL needs it. */
  name: string
  /**
   * How a row belongs to the tenant: `tenant column` (the table has it),
   * `registry` (the table the tenant column refers to: the tenant's own row),
   * or `foreign key to <table>` (no tenant column; reached through a key).
   */
  via: string
  /** The columns COPY reads and writes, in order (generated columns left out). */
  columns: PlannedColumn[]
  /** Tables this one refers to, among the planned ones: they come first. */
  parents: string[]
  /** Sequences owned by its columns (serial, identity), to move past imported values. */
  sequences: { column: string; sequence: string }[]
  /** @internal The tenant's rows, with the tenant read from the transaction's TENANT_SETTING. */
  select: string
  /** @internal The same rows, as the condition `WHERE ${filter}` on the bare table (alias `t`). */
  filter: string
}

export interface TenantPlan {
  tenantColumn: string
  /** Parents before children: the order to export and import in; erase goes backwards. */
  tables: PlannedTable[]
}

export interface PlanOptions {
  /** @default 'tenant_id' */
  tenantColumn?: string
  /** Only tables in these schemas. @default every schema but the system ones and tenantscope's */
  schemas?: readonly string[]
}

interface TableRow {
  oid: number
  name: string
  has_tenant_column: boolean
  tenant_type: string | null
  columns: PlannedColumn[]
  sequences: { column: string; sequence: string }[]
}

interface ForeignKeyRow {
  child: number
  parent: number
  child_columns: string[]
  parent_columns: string[]
}

const IN_SCOPE = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'tenantscope', 'pg_toast')
  AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
  AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))`

/**
 * Finds every table that holds rows of a tenant, from the catalog: the
 * tables with the tenant column, the registry table that column refers to,
 * and the tables that reach either only through foreign keys (users report
 * erasures that orphaned such tables). Orders them parents first.
 */
export async function planTenant(
  client: pg.ClientBase,
  options: PlanOptions = {},
  /** @internal The tenant as a literal quoted by the server (`quote_literal`), for statements that take no parameters. */
  tenantLiteral?: string,
): Promise<TenantPlan> {
  const tenantColumn = options.tenantColumn ?? 'tenant_id'
  if (typeof tenantColumn !== 'string' || tenantColumn.length === 0 || tenantColumn.length > 63) {
    throw new TenantLifecycleError('INVALID_CONFIG', 'tenantColumn must be a column name')
  }
  const schemas = options.schemas && options.schemas.length > 0 ? [...options.schemas] : null
  const tables = await client.query<TableRow>(
    `SELECT c.oid::int8 AS oid, format('%I.%I', n.nspname, c.relname) AS name,
            tc.attnum IS NOT NULL AS has_tenant_column, format_type(tc.atttypid, tc.atttypmod) AS tenant_type,
            (SELECT json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod)) ORDER BY a.attnum)
               FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') AS columns,
            coalesce((SELECT json_agg(json_build_object('column', a.attname, 'sequence', format('%I.%I', sn.nspname, s.relname)))
                        FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
                        JOIN pg_namespace sn ON sn.oid = s.relnamespace
                        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid
                       WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                         AND d.refobjid = c.oid AND d.deptype IN ('a', 'i')), '[]') AS sequences
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attribute tc ON tc.attrelid = c.oid AND tc.attname = $2 AND NOT tc.attisdropped
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND ${IN_SCOPE}
      ORDER BY 2`,
    [schemas, tenantColumn],
  )
  const keys = await client.query<ForeignKeyRow>(
    `SELECT con.conrelid::int8 AS child, con.confrelid::int8 AS parent,
            ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o) AS child_columns,
            ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.o) AS parent_columns
       FROM pg_constraint con
       JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE con.contype = 'f' AND ${IN_SCOPE}`,
    [schemas],
  )
  const byOid = new Map(tables.rows.map((row) => [Number(row.oid), row]))
  // A filter is written for a table alias; nested EXISTS get aliases of their own.
  type Filter = (alias: string) => string
  const planned = new Map<number, { row: TableRow; via: string; filter: Filter }>()
  // A sub-select: evaluated once per statement (an InitPlan), not once per row. The planner cannot see its
  // value, so it plans for an average tenant; a server-quoted literal lets it plan for this one (a big
  // tenant's COPY gets a sequential scan instead of a bitmap scan over the primary key).
  const tenantValue = (type: string) =>
    tenantLiteral === undefined ? `(SELECT current_setting('${TENANT_SETTING}')::${type})` : `${tenantLiteral}::${type}`
  for (const row of tables.rows) {
    if (row.has_tenant_column) {
      planned.set(Number(row.oid), {
        row,
        via: 'tenant column',
        filter: (a) => `${a}.${ident(tenantColumn)} = ${tenantValue(row.tenant_type!)}`,
      })
    }
  }
  if (planned.size === 0) throw new TenantLifecycleError('TENANT_NOT_FOUND', `No table has the tenant column ${tenantColumn}`)
  // The registry: what the tenant column alone refers to (tenants(id)).
  for (const key of keys.rows) {
    const parent = byOid.get(Number(key.parent))
    if (!planned.has(Number(key.child)) || !parent || parent.has_tenant_column || planned.has(Number(key.parent))) continue
    if (key.child_columns.length === 1 && key.child_columns[0] === tenantColumn) {
      const column = key.parent_columns[0]!
      const type = parent.columns.find((c) => c.name === column)?.type ?? 'text'
      planned.set(Number(key.parent), { row: parent, via: 'registry', filter: (a) => `${a}.${ident(column)} = ${tenantValue(type)}` })
    }
  }
  // Tables without the tenant column that refer to planned ones, until none is left.
  for (let added = true; added; ) {
    added = false
    for (const key of keys.rows) {
      const child = byOid.get(Number(key.child))
      const parent = planned.get(Number(key.parent))
      if (!child || !parent || planned.has(Number(key.child))) continue
      planned.set(Number(key.child), {
        row: child,
        via: `foreign key to ${parent.row.name}`,
        filter: (a) => {
          const p = `${a}_p`
          const join = key.child_columns.map((column, i) => `${p}.${ident(key.parent_columns[i]!)} = ${a}.${ident(column)}`).join(' AND ')
          return `EXISTS (SELECT 1 FROM ${parent.row.name} ${p} WHERE ${join} AND ${parent.filter(p)})`
        },
      })
      added = true
    }
  }
  const result: PlannedTable[] = []
  for (const [oid, { row, via, filter }] of planned) {
    const parents = keys.rows
      .filter((key) => Number(key.child) === oid && Number(key.parent) !== oid && planned.has(Number(key.parent)))
      .map((key) => byOid.get(Number(key.parent))!.name)
    const columns = row.columns
    result.push({
      name: row.name,
      via,
      columns,
      parents: [...new Set(parents)],
      sequences: row.sequences,
      filter: filter('t'),
      select: `SELECT ${columns.map((c) => ident(c.name)).join(', ')} FROM ${row.name} t WHERE ${filter('t')}`,
    })
  }
  return { tenantColumn, tables: parentsFirst(result) }
}

// Topological order by foreign keys; a cycle keeps the catalog's order for its members.
function parentsFirst(tables: PlannedTable[]): PlannedTable[] {
  const byName = new Map(tables.map((table) => [table.name, table]))
  const done = new Set<string>()
  const visiting = new Set<string>()
  const ordered: PlannedTable[] = []
  const visit = (table: PlannedTable) => {
    if (done.has(table.name) || visiting.has(table.name)) return
    visiting.add(table.name)
    for (const parent of table.parents) visit(byName.get(parent)!)
    visiting.delete(table.name)
    done.add(table.name)
    ordered.push(table)
  }
  for (const table of [...tables].sort((a, b) => a.name.localeCompare(b.name))) visit(table)
  return ordered
}

/** @internal A quoted identifier, as pg's escapeIdentifier makes it. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}
