import type { Catalog, TenantTable } from './catalog.js'
import { ident, literal } from './sql-text.js'

/** @internal */
export type PolicyCommand = 'ALL' | 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE'

/**
 * @internal The policy the fixes recommend, spelled as
 * `tenantscope.enable_tenant_rls` spells it: the bare column against the
 * setting read once per statement (the sub-select), an empty setting meaning
 * no tenant, cast to the column's type unless it is text. The setting is
 * written out, not read through tenantscope.current_tenant_id(): the planner
 * re-parses a SQL function's body every time it inlines it.
 */
export function policySql(catalog: Catalog, table: TenantTable, command: PolicyCommand = 'ALL', name = 'tenantscope_isolation'): string {
  const cast = table.columnType === 'text' ? '' : `::${table.columnType}`
  const expression = `${ident(catalog.tenantColumn)} = (SELECT NULLIF(current_setting(${literal(catalog.setting)}, true), '')${cast})`
  const lines = [`CREATE POLICY ${ident(name)} ON ${table.name} AS PERMISSIVE FOR ${command}`]
  // SELECT and DELETE take USING only, INSERT takes WITH CHECK only.
  if (command !== 'INSERT') lines.push(`  USING (${expression})`)
  if (command === 'ALL' || command === 'INSERT' || command === 'UPDATE') lines.push(`  WITH CHECK (${expression})`)
  return `${lines.join('\n')};`
}
