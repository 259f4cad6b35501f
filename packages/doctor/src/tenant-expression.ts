import { tenantPredicate } from '@tenantscope/sql'
import type { Catalog, TenantTable } from './catalog/index.js'
import { ident } from './sql-text.js'

/** @internal */
export type PolicyCommand = 'ALL' | 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE'

/**
 * @internal The policy the fixes recommend, built by @tenantscope/sql's
 * tenantPredicate: the one spelling `tenantscope.enable_tenant_rls` and the
 * Drizzle helpers use too (the bare column against the setting read once per
 * statement, an empty setting meaning no tenant, cast to the column's type
 * unless it is text).
 */
export function policySql(catalog: Catalog, table: TenantTable, command: PolicyCommand = 'ALL', name = 'tenantscope_isolation'): string {
  const expression = tenantPredicate(ident(catalog.tenantColumn), { setting: catalog.setting, columnType: table.columnType })
  const lines = [`CREATE POLICY ${ident(name)} ON ${table.name} AS PERMISSIVE FOR ${command}`]
  // SELECT and DELETE take USING only, INSERT takes WITH CHECK only.
  if (command !== 'INSERT') lines.push(`  USING (${expression})`)
  if (command === 'ALL' || command === 'INSERT' || command === 'UPDATE') lines.push(`  WITH CHECK (${expression})`)
  return `${lines.join('\n')};`
}
