import { DoctorError } from './doctor-error.js'
import { VIEWS_OVER_TABLES } from './views-over-tables.js'

/** Anything with pg's `query(text, values)`: a pg.Pool, pg.Client or PoolClient. */
export interface DoctorQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>
}

/** @internal */
export interface TenantTable {
  oid: number
  name: string
  owner: string
  ownerBypasses: boolean
  rls: boolean
  forced: boolean
  kind: 'r' | 'p'
  attnum: number
  columnType: string
  /** The app role's table privileges. */
  canSelect: boolean
  canInsert: boolean
  canUpdate: boolean
  canDelete: boolean
  /** TRUNCATE ignores row level security: the roles (the app role, one it is a member of, or PUBLIC) that hold it. */
  truncateGrantees: string[]
  hasTenantFirstIndex: boolean
  /** The table itself and every table it is a partition (or inheritance child) of, `schema.table`. */
  ancestors: string[]
}

/** @internal */
export interface Policy {
  tableOid: number
  name: string
  cmd: 'r' | 'a' | 'w' | 'd' | '*'
  permissive: boolean
  using: string | null
  check: string | null
  appliesToRole: boolean
  /** Source of the functions the policy calls (own helpers may hide current_setting). */
  functionSources: string[]
}

/** @internal */
export interface Constraint {
  name: string
  type: 'p' | 'u' | 'f' | 'i'
  tableOid: number
  referencedOid: number | null
  columns: string[]
  attnums: number[]
  referencedColumns: string[]
  referencedAttnums: number[]
}

/** @internal */
export interface ViewInfo {
  name: string
  kind: 'v' | 'm'
  owner: string
  ownerBypasses: boolean
  securityInvoker: boolean
  tableOids: number[]
}

/** @internal */
export interface SecurityDefinerFunction {
  name: string
  owner: string
  ownerBypasses: boolean
  definition: string
}

/** @internal */
export interface RoleInfo {
  name: string
  superuser: boolean
  bypassrls: boolean
  /** CREATEROLE: the role can grant itself any non-superuser role (a BYPASSRLS one included) and SET ROLE to it. */
  createrole: boolean
  /** Roles the app role is a member of (directly or not) that are superuser, BYPASSRLS or CREATEROLE. */
  privilegedMemberships: { name: string; superuser: boolean; bypassrls: boolean; createrole: boolean }[]
  /** Every role the app role is a member of, itself included. */
  memberOf: string[]
  /** The grants (pg_auth_members) that make up those memberships: `role` granted to `member`. */
  grants: { role: string; member: string }[]
}

/** @internal Everything the checks read, loaded in a handful of catalog queries. */
export interface Catalog {
  tenantColumn: string
  setting: string
  role: RoleInfo
  tables: TenantTable[]
  policies: Policy[]
  constraints: Constraint[]
  views: ViewInfo[]
  functions: SecurityDefinerFunction[]
}

const SYSTEM_SCHEMAS = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'tenantscope') AND n.nspname !~ '^pg_(toast|temp_)'`

/** @internal */
export async function loadCatalog(
  db: DoctorQueryable,
  options: { tenantColumn: string; setting: string; role: string | undefined; schemas: readonly string[] | undefined },
): Promise<Catalog> {
  const role = await loadRole(db, options.role)
  const schemas = options.schemas && options.schemas.length > 0 ? [...options.schemas] : null
  const { rows: tableRows } = await db.query(
    `SELECT c.oid::int8::text AS oid, format('%I.%I', n.nspname, c.relname) AS name, c.relkind AS kind,
            pg_get_userbyid(c.relowner) AS owner, (o.rolsuper OR o.rolbypassrls) AS owner_bypasses,
            c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
            a.attnum, format_type(a.atttypid, a.atttypmod) AS column_type,
            has_table_privilege($2, c.oid, 'SELECT') AS can_select,
            has_table_privilege($2, c.oid, 'INSERT') AS can_insert,
            has_table_privilege($2, c.oid, 'UPDATE') AS can_update,
            has_table_privilege($2, c.oid, 'DELETE') AS can_delete,
            -- A superuser's right to TRUNCATE is reported as superuser instead.
            CASE WHEN NOT $4::boolean AND has_table_privilege($2, c.oid, 'TRUNCATE') THEN
              ARRAY(SELECT DISTINCT CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(acl.grantee)) END
                      FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) AS acl
                     WHERE acl.privilege_type = 'TRUNCATE'
                       AND (acl.grantee = 0 OR pg_has_role($2, acl.grantee, 'MEMBER'))
                       -- The owner's own right: reported as ownership instead.
                       AND acl.grantee <> c.relowner
                     ORDER BY 1)
            ELSE '{}'::text[] END AS truncate_grantees,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indkey[0] = a.attnum) AS has_tenant_first_index,
            ARRAY(WITH RECURSIVE up (oid) AS (SELECT c.oid UNION SELECT h.inhparent FROM pg_inherits h JOIN up ON h.inhrelid = up.oid)
                  SELECT format('%I.%I', un.nspname, uc.relname) FROM up JOIN pg_class uc ON uc.oid = up.oid JOIN pg_namespace un ON un.oid = uc.relnamespace) AS ancestors
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_roles o ON o.oid = c.relowner
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = $1 AND NOT a.attisdropped
      WHERE c.relkind IN ('r', 'p') AND ${SYSTEM_SCHEMAS}
        AND ($3::text[] IS NULL OR n.nspname = ANY ($3::text[]))
      ORDER BY 2`,
    [options.tenantColumn, role.name, schemas, role.superuser],
  )
  const tables: TenantTable[] = tableRows.map((row) => ({
    oid: Number(row.oid),
    name: row.name,
    kind: row.kind,
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
    truncateGrantees: row.truncate_grantees,
    hasTenantFirstIndex: row.has_tenant_first_index,
    ancestors: row.ancestors,
  }))
  const oids = tables.map((table) => String(table.oid))
  // One after the other: `db` may be a single client.
  const policies = await loadPolicies(db, oids, role.name)
  const constraints = await loadConstraints(db, oids)
  const views = await loadViews(db, oids)
  const functions = await loadSecurityDefinerFunctions(db)
  return { tenantColumn: options.tenantColumn, setting: options.setting, role, tables, policies, constraints, views, functions }
}

async function loadRole(db: DoctorQueryable, name: string | undefined): Promise<RoleInfo> {
  const { rows } = await db.query(
    `SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolbypassrls AS bypassrls, r.rolcreaterole AS createrole,
            ARRAY(SELECT m.rolname::text FROM pg_roles m WHERE pg_has_role(r.oid, m.oid, 'MEMBER') ORDER BY 1) AS member_of,
            coalesce((SELECT json_agg(json_build_object('role', pg_get_userbyid(am.roleid), 'member', pg_get_userbyid(am.member)) ORDER BY 1)
                        FROM pg_auth_members am WHERE pg_has_role(r.oid, am.member, 'MEMBER')), '[]'::json) AS grants,
            coalesce((SELECT json_agg(json_build_object('name', m.rolname, 'superuser', m.rolsuper, 'bypassrls', m.rolbypassrls, 'createrole', m.rolcreaterole) ORDER BY m.rolname)
                        FROM pg_roles m
                       WHERE m.oid <> r.oid AND pg_has_role(r.oid, m.oid, 'MEMBER') AND (m.rolsuper OR m.rolbypassrls OR m.rolcreaterole)), '[]'::json) AS privileged
       FROM pg_roles r
      WHERE r.rolname = coalesce($1, current_user::text)`,
    [name ?? null],
  )
  const row = rows[0]
  if (!row) throw new DoctorError('ROLE_NOT_FOUND', `Role ${name ?? '(current)'} does not exist`)
  return { name: row.name, superuser: row.superuser, bypassrls: row.bypassrls, createrole: row.createrole, memberOf: row.member_of, grants: row.grants, privilegedMemberships: row.privileged }
}

async function loadPolicies(db: DoctorQueryable, oids: string[], role: string): Promise<Policy[]> {
  if (oids.length === 0) return []
  const { rows } = await db.query(
    `SELECT p.polrelid::int8::text AS table_oid, p.polname AS name, p.polcmd AS cmd, p.polpermissive AS permissive,
            pg_get_expr(p.polqual, p.polrelid) AS using_expr, pg_get_expr(p.polwithcheck, p.polrelid) AS check_expr,
            (0 = ANY (p.polroles) OR EXISTS (SELECT 1 FROM unnest(p.polroles) AS r(oid) WHERE pg_has_role($2, r.oid, 'MEMBER'))) AS applies,
            ARRAY(SELECT pr.prosrc FROM pg_depend d JOIN pg_proc pr ON pr.oid = d.refobjid
                   WHERE d.classid = 'pg_policy'::regclass AND d.objid = p.oid AND d.refclassid = 'pg_proc'::regclass) AS function_sources
       FROM pg_policy p
      WHERE p.polrelid = ANY ($1::oid[])
      ORDER BY p.polrelid, p.polname`,
    [oids, role],
  )
  return rows.map((row) => ({
    tableOid: Number(row.table_oid),
    name: row.name,
    cmd: row.cmd,
    permissive: row.permissive,
    using: row.using_expr,
    check: row.check_expr,
    appliesToRole: row.applies,
    functionSources: row.function_sources,
  }))
}

async function loadConstraints(db: DoctorQueryable, oids: string[]): Promise<Constraint[]> {
  if (oids.length === 0) return []
  const { rows } = await db.query(
    `SELECT con.conname AS name, con.contype AS type, con.conrelid::int8::text AS table_oid,
            nullif(con.confrelid, 0)::int8::text AS referenced_oid,
            con.conkey::int2[] AS attnums, coalesce(con.confkey::int2[], '{}') AS referenced_attnums,
            ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
            ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS referenced_columns
       FROM pg_constraint con
      WHERE con.conrelid = ANY ($1::oid[]) AND con.contype IN ('p', 'u', 'f')
     UNION ALL
     -- Unique indexes made with CREATE UNIQUE INDEX rather than a constraint.
     SELECT ic.relname, 'i', i.indrelid::int8::text, NULL, i.indkey::int2[], '{}',
            ARRAY(SELECT coalesce(a.attname::text, '(expression)') FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                    LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord),
            '{}'
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
      WHERE i.indrelid = ANY ($1::oid[]) AND i.indisunique
        AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x'))
      ORDER BY 1`,
    [oids],
  )
  return rows.map((row) => ({
    name: row.name,
    type: row.type,
    tableOid: Number(row.table_oid),
    referencedOid: row.referenced_oid === null ? null : Number(row.referenced_oid),
    attnums: row.attnums.map(Number),
    referencedAttnums: row.referenced_attnums.map(Number),
    columns: row.columns,
    referencedColumns: row.referenced_columns,
  }))
}

async function loadViews(db: DoctorQueryable, oids: string[]): Promise<ViewInfo[]> {
  if (oids.length === 0) return []
  // Views over tenant tables, and views over those views.
  const { rows } = await db.query(
    `${VIEWS_OVER_TABLES}
     SELECT format('%I.%I', n.nspname, v.relname) AS name, v.relkind AS kind, pg_get_userbyid(v.relowner) AS owner,
            (o.rolsuper OR o.rolbypassrls) AS owner_bypasses, coalesce(v.reloptions, '{}') AS options,
            array_agg(DISTINCT over.table_oid::int8::text) AS table_oids
       FROM over
       JOIN pg_class v ON v.oid = over.view_oid
       JOIN pg_namespace n ON n.oid = v.relnamespace
       JOIN pg_roles o ON o.oid = v.relowner
      WHERE v.relkind IN ('v', 'm')
      GROUP BY 1, 2, 3, 4, 5
      ORDER BY 1`,
    [oids],
  )
  return rows.map((row) => ({
    name: row.name,
    kind: row.kind,
    owner: row.owner,
    ownerBypasses: row.owner_bypasses,
    securityInvoker: (row.options as string[]).some((option) => /^security_invoker=(true|on|yes|1)$/i.test(option)),
    tableOids: (row.table_oids as string[]).map(Number),
  }))
}

async function loadSecurityDefinerFunctions(db: DoctorQueryable): Promise<SecurityDefinerFunction[]> {
  const { rows } = await db.query(
    `SELECT format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) AS name,
            pg_get_userbyid(p.proowner) AS owner, (o.rolsuper OR o.rolbypassrls) AS owner_bypasses,
            CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) ELSE p.prosrc END AS definition
       FROM pg_proc p
       JOIN pg_namespace n ON n.oid = p.pronamespace
       JOIN pg_roles o ON o.oid = p.proowner
      WHERE p.prosecdef AND ${SYSTEM_SCHEMAS}
      ORDER BY 1`,
  )
  return rows.map((row) => ({ name: row.name, owner: row.owner, ownerBypasses: row.owner_bypasses, definition: row.definition }))
}
