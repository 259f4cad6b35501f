import type { Catalog, RoleInfo, TenantTable } from './catalog/index.js'
import type { Finding } from './finding.js'
import { ident } from './sql-text.js'

/**
 * @internal What the app role may do with each tenant table, beyond its
 * policies: nothing at all (every query fails with 42501, which reads like a
 * policy refusal), a partition queried directly (only the partition's own
 * policies apply), a sequence or large objects every tenant shares.
 */
export function checkPrivileges(catalog: Catalog): Finding[] {
  const findings: Finding[] = []
  const { role } = catalog
  for (const table of catalog.tables) {
    findings.push(...sharedSequences(table, role))
    // A superuser may do anything; that is reported on its own.
    if (role.superuser) continue
    const any = table.canSelect || table.canInsert || table.canUpdate || table.canDelete
    if (!any && !table.isPartition) {
      findings.push({
        code: 'app_role_no_privileges',
        severity: 'warning',
        objectType: 'table',
        object: table.name,
        table: table.name,
        why:
          `Role ${role.name} may not SELECT, INSERT, UPDATE or DELETE on ${table.name}: every query fails with "permission denied" ` +
          `(42501), which looks like a policy refusal. Grant what the application needs (to the role, or to a group role it is a member ` +
          `of).`,
        fix: `GRANT SELECT, INSERT, UPDATE, DELETE ON ${table.name} TO ${ident(role.name)};`,
      })
    }
    if (any && table.isPartition && table.privilegeGrantees.length > 0) {
      findings.push({
        code: 'partition_readable_directly',
        severity: 'warning',
        objectType: 'table',
        object: table.name,
        table: table.name,
        why:
          `Role ${role.name} may query the partition ${table.name} directly (granted to ${table.privilegeGrantees.join(', ')}): then ` +
          `only the partition's own row level security applies, not its parent's policies. Queries through the parent need no ` +
          `privileges on the partitions.`,
        fix: `REVOKE SELECT, INSERT, UPDATE, DELETE ON ${table.name} FROM ${table.privilegeGrantees.join(', ')};`,
      })
    }
  }
  const lo = catalog.largeObjects
  if (lo.count > 0 && !role.superuser) {
    findings.push({
      code: 'large_objects_shared_across_tenants',
      severity: 'warning',
      objectType: 'database',
      object: 'large objects',
      why:
        `Role ${role.name} may read ${lo.count} large object${lo.count === 1 ? '' : 's'} (lo_get, lo_open)` +
        (lo.compatPrivileges
          ? ', since lo_compat_privileges is on'
          : lo.grantees.length > 0
            ? ` (granted to ${lo.grantees.join(', ')}, or owned)`
            : ' (as their owner)') +
        ": large objects have no row level security, so one tenant reads another's by guessing its oid. " +
        'Keep tenant data in bytea columns of tenant tables' +
        (lo.compatPrivileges ? ', and turn lo_compat_privileges off.' : '.'),
      // No SQL: which objects belong to whom is the application's knowledge.
    })
  }
  return findings
}

// One counter for every tenant: what its values tell, and who may reset it.
function sharedSequences(table: TenantTable, role: RoleInfo): Finding[] {
  const findings: Finding[] = []
  for (const sequence of table.sequences) {
    const setval = !role.superuser && sequence.canSetval && sequence.setvalGrantees.length > 0
    findings.push({
      code: 'sequence_shared_across_tenants',
      severity: setval ? 'warning' : 'info',
      objectType: 'sequence',
      object: sequence.name,
      table: table.name,
      why:
        `${table.name}.${sequence.column} takes its values from ${sequence.name}, one counter for every tenant: ` +
        'the ids a tenant receives tell it how many rows other tenants write' +
        (setval
          ? `, and role ${role.name} may call setval() on it (granted to ${sequence.setvalGrantees.join(', ')}), ` +
            "which makes other tenants' inserts fail with duplicate keys."
          : '. A uuid key (gen_random_uuid()) or a key per tenant reveals nothing.'),
      ...(setval ? { fix: `REVOKE UPDATE ON SEQUENCE ${sequence.name} FROM ${sequence.setvalGrantees.join(', ')};` } : {}),
    })
  }
  return findings
}
