import type { Catalog, TenantTable } from './catalog.js'
import { ident, literal } from './sql-text.js'

/** @internal */
export type PolicyCommand = 'ALL' | 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE'

/**
 * @internal The policy the fixes recommend: the bare column against the
 * setting read once per statement, an empty setting meaning no tenant.
 */
export function policySql(catalog: Catalog, table: TenantTable, command: PolicyCommand = 'ALL', name = 'tenantscope_isolation'): string {
  const expression = `${ident(catalog.tenantColumn)} = (SELECT NULLIF(current_setting(${literal(catalog.setting)}, true), '')::${table.columnType})`
  const lines = [`CREATE POLICY ${ident(name)} ON ${table.name} AS PERMISSIVE FOR ${command}`]
  // SELECT and DELETE take USING only, INSERT takes WITH CHECK only.
  if (command !== 'INSERT') lines.push(`  USING (${expression})`)
  if (command === 'ALL' || command === 'INSERT' || command === 'UPDATE') lines.push(`  WITH CHECK (${expression})`)
  return `${lines.join('\n')};`
}
