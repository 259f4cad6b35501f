import type { Catalog, CitusAuditRow } from './catalog/index.js'
import type { Finding } from './finding.js'
import { ident, literal } from './sql-text.js'

/**
 * @internal Where the citus extension is installed (silent elsewhere): tenant
 * tables distributed by the tenant column and colocated, no tenant rows in
 * reference tables (tenantscope.citus_audit() finds those), and the role's
 * settings that decide whether the tenant reaches the workers and whether a
 * query that fans out to every shard is noticed.
 * None of these leaks a row (RLS still decides on every shard): they cost
 * routing, joins, or silent empty results.
 */
export function checkCitus(catalog: Catalog): Finding[] {
  const { citus } = catalog
  if (!citus) return []
  const findings: Finding[] = []
  const tables = new Set(catalog.tables.map((table) => table.name))
  const column = catalog.tenantColumn
  const colocate = citus.colocateWith ? `, colocate_with => ${literal(citus.colocateWith)}` : ''
  if (!citus.auditAvailable) {
    findings.push({
      code: 'citus_audit_unavailable',
      severity: 'warning',
      objectType: 'database',
      object: 'tenantscope.citus_audit',
      why: "Citus is installed but tenantscope's Citus migration (0005_citus.sql) is not, or the role the doctor runs as may not execute tenantscope.citus_audit(): distribution and colocation of tenant tables were not checked.",
      fix: '-- Apply the shipped migrations as the owner of your tables: npx tenantscope sql | psql "$ADMIN_DATABASE_URL"',
    })
  }
  // Only the tables this run looks at (schemas, tables options).
  for (const row of citus.audit.filter((entry) => tables.has(entry.table))) {
    findings.push(auditFinding(row, column, colocate))
  }
  const role = ident(catalog.role.name)
  if (citus.propagateSetCommands !== 'local') {
    findings.push({
      code: 'citus_propagate_set_commands_not_local',
      severity: 'info',
      objectType: 'role',
      object: role,
      why:
        `citus.propagate_set_commands is '${citus.propagateSetCommands}' for role ${catalog.role.name}: Citus forwards SET LOCAL (the tenant) to the workers only when it is 'local'. ` +
        `tenantscope's Citus mode (createTenantPool(pool, { citus: true }), tenantDrizzle(db, { citus: true })) sets it itself in each transaction, so the pool works either way; ` +
        `any other code on this role that sets the tenant with SET LOCAL (a job, a script, psql) sees 0 rows from distributed tables without it.`,
      fix: `ALTER ROLE ${role} SET citus.propagate_set_commands = 'local';`,
    })
  }
  if (citus.multiTaskQueryLogLevel === 'off') {
    findings.push({
      code: 'citus_multi_shard_queries_not_logged',
      severity: 'info',
      objectType: 'role',
      object: role,
      why:
        `A query on a tenant table without ${column} = ... in its WHERE runs on every shard (RLS alone does not route it): it is correct but costs every node. ` +
        `With citus.multi_task_query_log_level each such query raises a notice (in development and CI, 'error' makes it fail a test).`,
      fix: `-- In development or CI ('error' fails such a query there); 'warning' only logs it:\nALTER ROLE ${role} SET citus.multi_task_query_log_level = 'warning';`,
    })
  }
  return findings
}

function auditFinding(row: CitusAuditRow, column: string, colocate: string): Finding {
  const table = row.table
  const name = literal(table)
  const base = { severity: 'warning', objectType: 'table', object: table, table } as const
  // Back to a local table, then distributed by the tenant with tenantscope's policy, FORCE and default.
  const redistribute =
    `-- Copies the rows to the coordinator and back; add cascade_via_foreign_keys => true if other tables reference it.\n` +
    `SELECT undistribute_table(${name});\nSELECT tenantscope.distribute_tenant_table(${name}, ${literal(column)}${colocate});`
  switch (row.problem) {
    case 'not_distributed':
      return {
        ...base,
        code: 'citus_not_distributed',
        why: `${table} has the tenant column but is not distributed: it stays on the coordinator, its rows never reach a worker, and Citus cannot join it with distributed tenant tables on a worker.`,
        fix: `SELECT tenantscope.distribute_tenant_table(${name}, ${literal(column)}${colocate});`,
      }
    case 'distributed_by_other_column':
      return {
        ...base,
        code: 'citus_distributed_by_other_column',
        why: `${table} is ${row.detail}: a tenant's rows are spread over every shard and every query on it runs on all of them.`,
        fix: redistribute,
      }
    case 'not_colocated':
      return {
        ...base,
        code: 'citus_not_colocated',
        why: `${table} is in ${row.detail}: a tenant's rows of this table and of the others may sit on different nodes, so joins between them are refused or repartitioned instead of running on one worker.`,
        fix: colocate ? `SELECT alter_distributed_table(${name}${colocate.replace('colocate_with =>', 'colocate_with :=')});` : undefined,
      }
    case 'reference_table_with_tenant_rows':
      return {
        ...base,
        code: 'citus_reference_table_with_tenant_rows',
        why: `${table} is a reference table with the tenant column: every tenant's rows are copied to every node and no query on it is routed to a tenant's shard.`,
        fix: redistribute,
      }
  }
}
