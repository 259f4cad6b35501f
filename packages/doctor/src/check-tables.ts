import type { Catalog, TenantTable } from './catalog/index.js'
import type { Finding } from './finding.js'
import { ident } from './sql-text.js'
import { policySql } from './tenant-expression.js'

const COMMANDS = [
  { cmd: 'r', name: 'SELECT', privilege: 'canSelect' },
  { cmd: 'a', name: 'INSERT', privilege: 'canInsert' },
  { cmd: 'w', name: 'UPDATE', privilege: 'canUpdate' },
  { cmd: 'd', name: 'DELETE', privilege: 'canDelete' },
] as const

/** @internal RLS on and forced, a policy for every command the app may run, a tenant-first index. */
export function checkTables(catalog: Catalog): Finding[] {
  const findings: Finding[] = []
  if (catalog.tables.length === 0) {
    findings.push({
      code: 'no_tenant_tables',
      severity: 'error',
      objectType: 'database',
      object: `column ${ident(catalog.tenantColumn)}`,
      why: `No table has a column named ${catalog.tenantColumn}, so nothing was checked. If your tenant column has another name, pass it (--tenant-column).`,
    })
  }
  for (const table of catalog.tables) {
    findings.push(...checkRls(catalog, table), ...checkCoverage(catalog, table))
    if (table.truncateGrantees.length > 0) {
      findings.push({
        code: 'app_role_can_truncate',
        severity: 'error',
        objectType: 'table',
        object: table.name,
        table: table.name,
        why: `Role ${catalog.role.name} may TRUNCATE ${table.name} (granted to ${table.truncateGrantees.join(', ')}): row level security does not apply to TRUNCATE, so one tenant can empty every tenant's rows.`,
        fix: `REVOKE TRUNCATE ON ${table.name} FROM ${table.truncateGrantees.join(', ')};`,
      })
    }
    if (!table.hasTenantFirstIndex) {
      findings.push({
        code: 'no_tenant_first_index',
        severity: 'warning',
        objectType: 'table',
        object: table.name,
        table: table.name,
        why: `No index starts with ${catalog.tenantColumn}: every policy check filters on it, so each query scans the whole table instead of one tenant's rows.`,
        fix: `CREATE INDEX ON ${table.name} (${ident(catalog.tenantColumn)});`,
      })
    }
  }
  return findings
}

function checkRls(catalog: Catalog, table: TenantTable): Finding[] {
  if (!table.rls) {
    const hasPolicy = catalog.policies.some((policy) => policy.tableOid === table.oid)
    return [
      {
        code: 'rls_disabled',
        severity: 'error',
        objectType: 'table',
        object: table.name,
        table: table.name,
        why: "Row level security is not enabled: its policies are ignored and every role with table privileges sees and changes every tenant's rows.",
        fix: `ALTER TABLE ${table.name} ENABLE ROW LEVEL SECURITY;\nALTER TABLE ${table.name} FORCE ROW LEVEL SECURITY;${hasPolicy ? '' : `\n${policySql(catalog, table)}`}`,
      },
    ]
  }
  if (!table.forced) {
    return [
      {
        code: 'rls_not_forced',
        severity: 'error',
        objectType: 'table',
        object: table.name,
        table: table.name,
        why: `Without FORCE ROW LEVEL SECURITY the table owner (${table.owner}) bypasses every policy: code connected as the owner sees all tenants, and nothing says so.`,
        fix: `ALTER TABLE ${table.name} FORCE ROW LEVEL SECURITY;`,
      },
    ]
  }
  return []
}

function checkCoverage(catalog: Catalog, table: TenantTable): Finding[] {
  if (!table.rls) return []
  const policies = catalog.policies.filter((policy) => policy.tableOid === table.oid)
  if (policies.length === 0) {
    return [
      {
        code: 'no_policy',
        severity: 'error',
        objectType: 'table',
        object: table.name,
        table: table.name,
        why: 'Row level security is on but the table has no policy, so every query of the application sees no rows and every write fails.',
        fix: policySql(catalog, table),
      },
    ]
  }
  const findings: Finding[] = []
  for (const { cmd, name, privilege } of COMMANDS) {
    if (!table[privilege]) continue // the app role may not run it anyway
    const covered = policies.some((policy) => policy.permissive && policy.appliesToRole && (policy.cmd === '*' || policy.cmd === cmd))
    if (!covered) {
      findings.push({
        code: 'policy_missing_for_command',
        severity: 'warning',
        objectType: 'table',
        object: table.name,
        table: table.name,
        why: `Role ${catalog.role.name} may ${name} but no permissive policy for ${name} applies to it, so every ${name} silently matches no rows (or fails, for INSERT). Revoke the privilege if that is intended.`,
        fix: policySql(catalog, table, name, `tenantscope_isolation_${name.toLowerCase()}`),
      })
    }
  }
  return findings
}
