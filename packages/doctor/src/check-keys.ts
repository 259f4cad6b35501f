import type { Catalog, Constraint, TenantTable } from './catalog/index.js'
import type { Finding } from './finding.js'
import { ident } from './sql-text.js'

/**
 * @internal Keys between tenant rows must carry the tenant: a foreign key on
 * `project_id` alone lets a row point at another tenant's project (foreign
 * key checks bypass RLS), and a unique key without the tenant makes one
 * tenant's values collide with, and reveal, another's. Citus needs the
 * tenant in all of them too.
 */
export function checkKeys(catalog: Catalog): Finding[] {
  const findings: Finding[] = []
  const tables = new Map(catalog.tables.map((table) => [table.oid, table]))
  const column = ident(catalog.tenantColumn)
  for (const constraint of catalog.constraints) {
    const table = tables.get(constraint.tableOid)
    if (!table) continue
    const object = `${ident(constraint.name)} ON ${table.name}`
    const columns = constraint.columns.map(ident).join(', ')
    if (constraint.type === 'f') {
      const parent = constraint.referencedOid === null ? undefined : tables.get(constraint.referencedOid)
      if (!parent || carriesTenant(constraint, table, parent)) continue
      findings.push({
        code: 'foreign_key_without_tenant',
        severity: 'error',
        objectType: 'constraint',
        object,
        table: table.name,
        why: `The foreign key (${columns}) → ${parent.name} does not include ${catalog.tenantColumn}: foreign key checks bypass RLS, so a row can reference another tenant's row, and the error on a missing id tells a tenant whether another tenant's id exists.`,
        fix:
          `-- needs a unique key on ${parent.name} (${[column, ...constraint.referencedColumns.map(ident)].join(', ')})\n` +
          `ALTER TABLE ${table.name} DROP CONSTRAINT ${ident(constraint.name)},\n` +
          `  ADD FOREIGN KEY (${[column, ...constraint.columns.map(ident)].join(', ')}) REFERENCES ${parent.name} (${[column, ...constraint.referencedColumns.map(ident)].join(', ')});`,
      })
      continue
    }
    if (constraint.attnums.includes(table.attnum)) continue
    const primary = constraint.type === 'p'
    findings.push({
      code: primary ? 'primary_key_without_tenant' : 'unique_without_tenant',
      severity: 'warning',
      objectType: constraint.type === 'i' ? 'index' : 'constraint',
      object,
      table: table.name,
      why: primary
        ? `The primary key (${columns}) does not include ${catalog.tenantColumn}: foreign keys from other tenant tables cannot include the tenant either, and Citus cannot distribute the table by tenant.`
        : `The unique key (${columns}) does not include ${catalog.tenantColumn}: a value one tenant uses cannot be used by another, and the unique-violation error tells a tenant that another tenant has it.`,
      fix: primary
        ? `ALTER TABLE ${table.name} DROP CONSTRAINT ${ident(constraint.name)}, ADD PRIMARY KEY (${column}, ${columns});`
        : constraint.type === 'i'
          ? `DROP INDEX ${ident(constraint.name)};\nCREATE UNIQUE INDEX ON ${table.name} (${column}, ${columns});`
          : `ALTER TABLE ${table.name} DROP CONSTRAINT ${ident(constraint.name)}, ADD UNIQUE (${column}, ${columns});`,
    })
  }
  return findings
}

function carriesTenant(constraint: Constraint, table: TenantTable, parent: TenantTable): boolean {
  return constraint.attnums.some((attnum, index) => attnum === table.attnum && constraint.referencedAttnums[index] === parent.attnum)
}
