import type { DoctorConnection, DoctorQueryable } from './queryable.js'
import { SYSTEM_SCHEMAS } from './system-schemas.js'

/**
 * How the doctor reaches the other databases of the server. Roles are
 * cluster-wide: an app role (or a group role such as tenantscope_app) that
 * holds grants in two databases serves two applications.
 */
export interface OtherDatabases {
  /** Opens a connection to `database` on the same server (as a role that may read its catalog). */
  connect(database: string): Promise<DoctorConnection>
  /** Only look at these databases. @default every other database the role may connect to */
  only?: readonly string[]
}

/** Another database the role may connect to, and the tenant tables it may use there. */
export interface ReachedDatabase {
  name: string
  /** The roles (the role, one it is a member of, or PUBLIC) through which it may connect. */
  connectGrantees: string[]
  tables: string[]
}

/**
 * The other databases where `role` may connect and use a table that has the
 * tenant column. A database that cannot be opened is left out (it cannot be
 * reached by this connection's credentials either, or it is going away).
 */
export async function loadReachedDatabases(
  db: DoctorQueryable,
  other: OtherDatabases,
  options: { role: string; tenantColumn: string },
): Promise<ReachedDatabase[]> {
  const { rows } = await db.query(
    `SELECT d.datname::text AS name,
            ARRAY(SELECT DISTINCT CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(acl.grantee)) END
                    FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) AS acl
                   WHERE acl.privilege_type = 'CONNECT' AND (acl.grantee = 0 OR pg_has_role($1, acl.grantee, 'MEMBER'))
                   ORDER BY 1) AS connect_grantees
       FROM pg_database d
      WHERE d.datallowconn AND NOT d.datistemplate AND d.datname <> current_database()
        AND has_database_privilege($1, d.oid, 'CONNECT')
        AND ($2::text[] IS NULL OR d.datname = ANY ($2::text[]))
      ORDER BY 1`,
    [options.role, other.only ? [...other.only] : null],
  )
  const reached: ReachedDatabase[] = []
  for (const row of rows) {
    const connection = await other.connect(row.name).catch(() => undefined)
    if (!connection) continue
    try {
      const tables = await connection.query(
        `SELECT format('%I.%I', n.nspname, c.relname) AS name
           FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = $2 AND NOT a.attisdropped
          WHERE c.relkind IN ('r', 'p') AND ${SYSTEM_SCHEMAS}
            AND has_table_privilege($1, c.oid, 'SELECT, INSERT, UPDATE, DELETE')
          ORDER BY 1`,
        [options.role, options.tenantColumn],
      )
      if (tables.rows.length > 0) {
        reached.push({ name: row.name, connectGrantees: row.connect_grantees, tables: tables.rows.map((table) => table.name) })
      }
    } catch {
      // Dropped while we looked, or its catalog is not readable: nothing to report from here.
    } finally {
      await connection.end().catch(() => undefined)
    }
  }
  return reached
}
