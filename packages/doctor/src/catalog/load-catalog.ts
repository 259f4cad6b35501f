import { type CitusCatalog, loadCitus } from './load-citus.js'
import { type Constraint, loadConstraints } from './load-constraints.js'
import { loadSecurityDefinerFunctions, type SecurityDefinerFunction } from './load-functions.js'
import { loadPolicies, type Policy } from './load-policies.js'
import { loadRole, type RoleInfo } from './load-role.js'
import { loadTenantTables, type TenantTable } from './load-tables.js'
import { loadViews, type ViewInfo } from './load-views.js'
import { loadReachedDatabases, type OtherDatabases, type ReachedDatabase } from './other-databases.js'
import type { DoctorQueryable } from './queryable.js'

/** Everything the checks read, loaded in a handful of catalog queries. */
export interface Catalog {
  tenantColumn: string
  setting: string
  /** The role that was checked. */
  role: RoleInfo
  /** The role the doctor is connected as (current_user). */
  connectedRole: string
  /** tenantscope's group role for applications exists (0003_roles.sql). */
  hasAppGroupRole: boolean
  tables: TenantTable[]
  policies: Policy[]
  constraints: Constraint[]
  views: ViewInfo[]
  functions: SecurityDefinerFunction[]
  /** Large objects the role may read or write: they have no row level security, whoever wrote them. */
  largeObjects: { count: number; grantees: string[]; compatPrivileges: boolean }
  /** Other databases of the server where the role reaches tenant tables; empty unless `otherDatabases` was given. */
  otherDatabases: ReachedDatabase[]
  /** Distribution, colocation and settings, when the citus extension is installed here. */
  citus?: CitusCatalog | undefined
}

/** @internal */
export async function loadCatalog(
  db: DoctorQueryable,
  options: {
    tenantColumn: string
    setting: string
    role: string | undefined
    schemas: readonly string[] | undefined
    otherDatabases?: OtherDatabases | undefined
  },
): Promise<Catalog> {
  const role = await loadRole(db, options.role)
  const { rows } = await db.query(
    `SELECT current_user::text AS connected, to_regrole('tenantscope_app') IS NOT NULL AS has_app_group,
            current_setting('lo_compat_privileges')::boolean AS lo_compat,
            (SELECT count(*)::int FROM pg_largeobject_metadata m
              WHERE current_setting('lo_compat_privileges')::boolean OR pg_has_role($1, m.lomowner, 'MEMBER')
                 OR EXISTS (SELECT 1 FROM aclexplode(m.lomacl) AS acl
                             WHERE acl.grantee = 0 OR pg_has_role($1, acl.grantee, 'MEMBER'))) AS lo_count,
            ARRAY(SELECT DISTINCT CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(acl.grantee)) END
                    FROM pg_largeobject_metadata m, aclexplode(m.lomacl) AS acl
                   WHERE acl.grantee = 0 OR pg_has_role($1, acl.grantee, 'MEMBER') ORDER BY 1) AS lo_grantees`,
    [role.name],
  )
  const tables = await loadTenantTables(db, {
    tenantColumn: options.tenantColumn,
    role: role.name,
    superuser: role.superuser,
    schemas: options.schemas,
  })
  const oids = tables.map((table) => String(table.oid))
  // One after the other: `db` may be a single client.
  const policies = await loadPolicies(db, oids, role.name)
  const constraints = await loadConstraints(db, oids)
  const views = await loadViews(db, oids, { tenantColumn: options.tenantColumn, role: role.name })
  const functions = await loadSecurityDefinerFunctions(db, role.name)
  const otherDatabases =
    options.otherDatabases && !role.superuser
      ? await loadReachedDatabases(db, options.otherDatabases, { role: role.name, tenantColumn: options.tenantColumn })
      : []
  const citus = await loadCitus(db, { tenantColumn: options.tenantColumn, role: role.name })
  return {
    tenantColumn: options.tenantColumn,
    setting: options.setting,
    role,
    connectedRole: rows[0].connected,
    hasAppGroupRole: rows[0].has_app_group,
    tables,
    policies,
    constraints,
    views,
    functions,
    largeObjects: { count: rows[0].lo_count, grantees: rows[0].lo_grantees, compatPrivileges: rows[0].lo_compat },
    otherDatabases,
    citus,
  }
}
