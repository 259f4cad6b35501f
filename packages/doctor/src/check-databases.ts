import type { Catalog } from './catalog/index.js'
import type { Finding } from './finding.js'
import { ident } from './sql-text.js'

/**
 * @internal Roles belong to the whole server: an app role, or a group role
 * such as tenantscope_app shared by two applications, that may connect to
 * another database and use tenant tables there serves that application too.
 * Only checked when the doctor may open the other databases (`otherDatabases`).
 */
export function checkDatabases(catalog: Catalog): Finding[] {
  return catalog.otherDatabases.map((database) => ({
    code: 'app_role_reaches_other_database',
    severity: 'error',
    objectType: 'database',
    object: ident(database.name),
    why:
      `Role ${catalog.role.name} may connect to database ${database.name} (through ${database.connectGrantees.join(', ')}) ` +
      `and use its tenant tables (${database.tables.slice(0, 3).join(', ')}${database.tables.length > 3 ? ', ...' : ''}): ` +
      `credentials of this application reach that one's tenants. ` +
      `Give each application its own app role (not a group role both share), and REVOKE CONNECT ON DATABASE ... FROM PUBLIC with ` +
      `GRANT CONNECT to that database's own roles.`,
    // No SQL: revoking CONNECT from PUBLIC or a shared group role locks out that database's own users
    // until they are granted it again.
  }))
}
