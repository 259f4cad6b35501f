import type { DoctorQueryable } from './queryable.js'
import { SYSTEM_SCHEMAS } from './system-schemas.js'

export interface TenantTable {
  oid: number
  /** `schema.table`, each part quoted only when PostgreSQL needs it. */
  name: string
  owner: string
  ownerBypasses: boolean
  rls: boolean
  forced: boolean
  kind: 'r' | 'p'
  /** A partition of another table: queried directly, only its own policies apply, not its parent's. */
  isPartition: boolean
  /** The tenant column's number and type (`uuid`, `bigint`, `text`, ...). */
  attnum: number
  columnType: string
  /** The role's table privileges. */
  canSelect: boolean
  canInsert: boolean
  canUpdate: boolean
  canDelete: boolean
  /** TRUNCATE (row level security does not apply to it), other than as the owner. */
  canTruncate: boolean
  /** TRUNCATE ignores row level security: the roles (the role, one it is a member of, or PUBLIC) that hold it. */
  truncateGrantees: string[]
  /** The roles (the role, one it is a member of, or PUBLIC) through which it may SELECT, INSERT, UPDATE or DELETE. */
  privilegeGrantees: string[]
  hasTenantFirstIndex: boolean
  /** The table itself and every table it is a partition (or inheritance child) of, `schema.table`. */
  ancestors: string[]
  /** Sequences owned by the table's columns (serial, identity): one counter for every tenant. */
  sequences: { name: string; column: string; canSetval: boolean; setvalGrantees: string[] }[]
}

// Who holds `privileges` on the object whose ACL is `acl` (default `kind`), through `$2`'s memberships or PUBLIC,
// the owner's own right left out (ownership is reported as such).
const grantees = (acl: string, kind: string, owner: string, privileges: string) =>
  `ARRAY(SELECT DISTINCT CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(acl.grantee)) END
           FROM aclexplode(coalesce(${acl}, acldefault('${kind}', ${owner}))) AS acl
          WHERE acl.privilege_type IN (${privileges})
            AND (acl.grantee = 0 OR pg_has_role($2, acl.grantee, 'MEMBER')) AND acl.grantee <> ${owner}
          ORDER BY 1)`

/**
 * Every table and partition that has the tenant column, with `role`'s
 * privileges on it. Shared by the doctor and @tenantscope/testing.
 */
export async function loadTenantTables(
  db: DoctorQueryable,
  options: { tenantColumn: string; role: string; superuser?: boolean; schemas?: readonly string[] | undefined },
): Promise<TenantTable[]> {
  const schemas = options.schemas && options.schemas.length > 0 ? [...options.schemas] : null
  const privileges = `'SELECT', 'INSERT', 'UPDATE', 'DELETE'`
  const { rows } = await db.query(
    `SELECT c.oid::int8::text AS oid, format('%I.%I', n.nspname, c.relname) AS name, c.relkind AS kind, c.relispartition AS is_partition,
            pg_get_userbyid(c.relowner) AS owner, (o.rolsuper OR o.rolbypassrls) AS owner_bypasses,
            c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
            a.attnum, format_type(a.atttypid, a.atttypmod) AS column_type,
            has_table_privilege($2, c.oid, 'SELECT') AS can_select,
            has_table_privilege($2, c.oid, 'INSERT') AS can_insert,
            has_table_privilege($2, c.oid, 'UPDATE') AS can_update,
            has_table_privilege($2, c.oid, 'DELETE') AS can_delete,
            (has_table_privilege($2, c.oid, 'TRUNCATE') AND NOT pg_has_role($2, c.relowner, 'MEMBER')) AS can_truncate,
            -- A superuser's right to TRUNCATE is reported as superuser instead.
            CASE WHEN NOT $4::boolean AND has_table_privilege($2, c.oid, 'TRUNCATE')
                 THEN ${grantees('c.relacl', 'r', 'c.relowner', `'TRUNCATE'`)} ELSE '{}'::text[] END AS truncate_grantees,
            ${grantees('c.relacl', 'r', 'c.relowner', privileges)} AS privilege_grantees,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indkey[0] = a.attnum) AS has_tenant_first_index,
            ARRAY(WITH RECURSIVE up (oid) AS (SELECT c.oid UNION SELECT h.inhparent FROM pg_inherits h JOIN up ON h.inhrelid = up.oid)
                  SELECT format('%I.%I', un.nspname, uc.relname)
                    FROM up JOIN pg_class uc ON uc.oid = up.oid JOIN pg_namespace un ON un.oid = uc.relnamespace) AS ancestors,
            coalesce((SELECT json_agg(json_build_object('name', format('%I.%I', sn.nspname, s.relname), 'column', sa.attname,
                                                        'canSetval', has_sequence_privilege($2, s.oid, 'UPDATE'),
                                                        'setvalGrantees', ${grantees('s.relacl', 's', 's.relowner', `'UPDATE'`)})
                                      ORDER BY s.relname)
                        FROM pg_depend d
                        JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
                        JOIN pg_namespace sn ON sn.oid = s.relnamespace
                        JOIN pg_attribute sa ON sa.attrelid = c.oid AND sa.attnum = d.refobjsubid
                       WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = c.oid
                         AND d.deptype IN ('a', 'i')), '[]'::json) AS sequences
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_roles o ON o.oid = c.relowner
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = $1 AND NOT a.attisdropped
      WHERE c.relkind IN ('r', 'p') AND ${SYSTEM_SCHEMAS}
        AND ($3::text[] IS NULL OR n.nspname = ANY ($3::text[]))
      ORDER BY 2`,
    [options.tenantColumn, options.role, schemas, options.superuser ?? false],
  )
  return rows.map((row) => ({
    oid: Number(row.oid),
    name: row.name,
    kind: row.kind,
    isPartition: row.is_partition,
    owner: row.owner,
    ownerBypasses: row.owner_bypasses,
    rls: row.rls,
    forced: row.forced,
    attnum: Number(row.attnum),
    columnType: row.column_type,
    canSelect: row.can_select,
    canInsert: row.can_insert,
    canUpdate: row.can_update,
    canDelete: row.can_delete,
    canTruncate: row.can_truncate,
    truncateGrantees: row.truncate_grantees,
    privilegeGrantees: row.privilege_grantees,
    hasTenantFirstIndex: row.has_tenant_first_index,
    ancestors: row.ancestors,
    sequences: row.sequences,
  }))
}
