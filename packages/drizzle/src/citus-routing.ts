import { getTenantId } from '@tenantscope/core'
import { and, type Column, eq, getTableColumns, is, type SQL, Table } from 'drizzle-orm'

/**
 * @internal The routing half of `tenantDrizzle(db, { citus: true })`.
 *
 * On Citus, RLS alone sends every query to every shard: the distributed
 * planner prunes shards before policies are applied, so it only sees a
 * filter the query itself carries. This dialect adds
 * `<table>.tenant_id = <current tenant>` (a bind parameter) to the WHERE of
 * every SELECT, UPDATE and DELETE on a table that has the tenant column (and
 * to the tables it inner-joins), so Citus routes the statement to the one
 * shard of that tenant. Relational queries (`db.query.*.findFirst`) end in
 * the same SELECT builder and are routed too. INSERTs route by themselves:
 * Citus evaluates the column default on the coordinator.
 *
 * The condition only narrows what RLS already allows, so it can never show
 * more rows; a prepared statement (`.prepare()`) keeps the tenant it was
 * built for, and for another tenant it returns nothing (fails closed):
 * prepare inside each tenant's context.
 *
 * It is a copy of the instance's own dialect (Object.create), so every other
 * method, and the casing it holds, stay the user's.
 */
export function routingDialect<TDialect extends object>(dialect: TDialect, tenantColumn: string): TDialect {
  const base = dialect as unknown as DialectLike
  const routed = Object.create(dialect) as DialectLike
  routed.buildSelectQuery = function (this: DialectLike, config: SelectConfig) {
    const tables = [config.table, ...(config.joins ?? []).filter((join) => join.joinType === 'inner').map((join) => join.table)]
    return base.buildSelectQuery.call(this, { ...config, where: withTenant(config.where, tables, tenantColumn) })
  }
  routed.buildUpdateQuery = function (this: DialectLike, config: WriteConfig) {
    return base.buildUpdateQuery.call(this, { ...config, where: withTenant(config.where, [config.table], tenantColumn) })
  }
  routed.buildDeleteQuery = function (this: DialectLike, config: WriteConfig) {
    return base.buildDeleteQuery.call(this, { ...config, where: withTenant(config.where, [config.table], tenantColumn) })
  }
  return routed as unknown as TDialect
}

interface SelectConfig {
  table: unknown
  where?: SQL | undefined
  joins?: { table: unknown; joinType: string }[]
  [key: string]: unknown
}

interface WriteConfig {
  table: unknown
  where?: SQL | undefined
  [key: string]: unknown
}

interface DialectLike {
  buildSelectQuery(config: SelectConfig): SQL
  buildUpdateQuery(config: WriteConfig): SQL
  buildDeleteQuery(config: WriteConfig): SQL
}

function withTenant(where: SQL | undefined, tables: readonly unknown[], tenantColumn: string): SQL | undefined {
  const conditions: SQL[] = []
  for (const table of tables) {
    const column = tenantColumnOf(table, tenantColumn)
    // getTenantId throws TENANT_CONTEXT_MISSING outside withTenant, as the pool would.
    if (column) conditions.push(eq(column, getTenantId()))
  }
  if (conditions.length === 0) return where
  return where ? and(where, ...conditions) : and(...conditions)
}

// Tables only (not subqueries, views or raw SQL), found by the column's
// database name. An aliased table hands out its columns under the alias.
function tenantColumnOf(table: unknown, name: string): Column | undefined {
  if (!is(table, Table)) return undefined
  for (const column of Object.values(getTableColumns(table))) {
    if (column.name === name) return column
  }
  return undefined
}
