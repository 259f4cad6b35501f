import type { Catalog } from './catalog/index.js'
import type { Finding } from './finding.js'
import { ident } from './sql-text.js'

/**
 * @internal The role the application connects as must be subject to RLS:
 * not superuser, not BYPASSRLS, owner of no tenant table, and unable to
 * become (SET ROLE) a role that is any of those.
 */
export function checkRole(catalog: Catalog): Finding[] {
  const { role } = catalog
  const name = ident(role.name)
  const findings: Finding[] = []
  // Revoke the grant that links the app role's memberships to the privileged role: for app -> m2 -> owner,
  // that is REVOKE owner FROM m2 (REVOKE owner FROM app would do nothing).
  const revoke = (target: string) => {
    const members = [...new Set(role.grants.filter((grant) => grant.role === target).map((grant) => grant.member))].sort()
    return `REVOKE ${ident(target)} FROM ${(members.length > 0 ? members : [role.name]).map(ident).join(', ')};`
  }
  const hint = ' If the application connects as another role, pass it with --role.'
  // Never suggest demoting the role the check runs as (the maintenance or migration role that ran
  // it without --role), nor the bootstrap superuser: pasted, that locks its owner out. Suggest a
  // dedicated application role instead.
  const keep = role.connected || role.bootstrap
  const attributeFix = (alter: string) => (keep ? dedicatedRoleSql(catalog) : alter)
  if (role.superuser) {
    findings.push({
      code: 'app_role_superuser',
      severity: 'error',
      objectType: 'role',
      object: name,
      why: `Role ${role.name} is a superuser: superusers bypass every policy, so RLS protects nothing for it.${hint}`,
      fix: attributeFix(`ALTER ROLE ${name} NOSUPERUSER;`),
    })
  }
  if (role.bypassrls) {
    findings.push({
      code: 'app_role_bypassrls',
      severity: 'error',
      objectType: 'role',
      object: name,
      why: `Role ${role.name} has BYPASSRLS: every policy is skipped for it. Keep BYPASSRLS for a separate maintenance role and pool.${hint}`,
      fix: attributeFix(`ALTER ROLE ${name} NOBYPASSRLS;`),
    })
  }
  if (role.createrole && !role.superuser) {
    findings.push({
      code: 'app_role_createrole',
      severity: 'error',
      objectType: 'role',
      object: name,
      why: `Role ${role.name} has CREATEROLE: it can GRANT itself any role that is not a superuser (a BYPASSRLS maintenance role, a table owner) and SET ROLE to it, which turns RLS off.${hint}`,
      fix: attributeFix(`ALTER ROLE ${name} NOCREATEROLE;`),
    })
  }
  // A superuser is a member of every role; the finding above says it all.
  if (role.superuser) return findings
  for (const table of catalog.tables) {
    if (table.owner === role.name) {
      findings.push({
        code: 'app_role_owns_tenant_table',
        severity: 'error',
        objectType: 'role',
        object: name,
        table: table.name,
        why: `Role ${role.name} owns ${table.name}: an owner bypasses RLS unless the table is forced, and can always disable RLS or drop its policies with one ALTER TABLE.`,
        // Handed to the role the check runs as (the one that runs migrations), unless that is the app role itself.
        fix:
          catalog.connectedRole === role.name
            ? `-- Connect as the role that runs your migrations and run:\n-- ALTER TABLE ${table.name} OWNER TO <that role>;`
            : `ALTER TABLE ${table.name} OWNER TO ${ident(catalog.connectedRole)};`,
      })
    } else if (role.memberOf.includes(table.owner)) {
      findings.push({
        code: 'app_role_member_of_privileged_role',
        severity: 'error',
        objectType: 'role',
        object: name,
        table: table.name,
        why: `Role ${role.name} is a member of ${table.owner}, which owns ${table.name}: it can act as the owner (SET ROLE), disable RLS or drop the policies.`,
        fix: revoke(table.owner),
      })
    }
  }
  for (const member of role.privilegedMemberships) {
    findings.push({
      code: 'app_role_member_of_privileged_role',
      severity: 'error',
      objectType: 'role',
      object: name,
      why: `Role ${role.name} is a member of ${member.name}, which ${member.superuser ? 'is a superuser' : member.bypassrls ? 'is BYPASSRLS' : 'has CREATEROLE (it can grant itself a BYPASSRLS role)'}: one SET ROLE ${member.name} (from any SQL on the connection) turns RLS off.`,
      fix: revoke(member.name),
    })
  }
  return findings
}

// A role for the application: subject to RLS, owns nothing, no password in the pasted SQL.
function dedicatedRoleSql(catalog: Catalog): string {
  const lines = [
    `-- ${catalog.role.name} is the role this check ran as: keep it for migrations and maintenance, and give the application its own role.`,
    `CREATE ROLE app_user LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE ` +
      `NOCREATEDB${catalog.hasAppGroupRole ? ' IN ROLE tenantscope_app' : ''};`,
  ]
  if (!catalog.hasAppGroupRole) {
    lines.push('-- GRANT SELECT, INSERT, UPDATE, DELETE ON <your tenant tables> TO app_user;')
  }
  lines.push('-- Set its password (psql: \\password app_user), connect the application as app_user,')
  lines.push('-- and check it: tenantscope doctor --role app_user')
  return lines.join('\n')
}
