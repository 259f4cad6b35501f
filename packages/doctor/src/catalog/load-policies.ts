import type { DoctorQueryable } from './queryable.js'

/** A function a policy calls, directly or as the code of an operator it uses. */
export interface PolicyFunction {
  /** `schema.function`, or `operator <op> (schema.function)`. */
  name: string
  leakproof: boolean
  /** How many arguments it takes: one with none cannot be handed a row's values. */
  args: number
  /** Its source, for LANGUAGE sql/plpgsql functions (own helpers may hide current_setting). */
  source: string
}

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
  /** The functions and operators the policy depends on. */
  functions: PolicyFunction[]
}

/** The policies on the tables `oids`, with whether they apply to `role`. */
export async function loadPolicies(db: DoctorQueryable, oids: string[], role: string): Promise<Policy[]> {
  if (oids.length === 0) return []
  const { rows } = await db.query(
    `SELECT p.polrelid::int8::text AS table_oid, p.polname AS name, p.polcmd AS cmd, p.polpermissive AS permissive,
            pg_get_expr(p.polqual, p.polrelid) AS using_expr, pg_get_expr(p.polwithcheck, p.polrelid) AS check_expr,
            (0 = ANY (p.polroles) OR EXISTS (SELECT 1 FROM unnest(p.polroles) AS r(oid) WHERE pg_has_role($2, r.oid, 'MEMBER'))) AS applies,
            coalesce((SELECT json_agg(json_build_object(
                               'name', CASE WHEN op.oid IS NULL THEN format('%I.%I', fn.nspname, pr.proname)
                                            ELSE format('operator %s (%I.%I)', op.oprname, fn.nspname, pr.proname) END,
                               'leakproof', pr.proleakproof, 'args', pr.pronargs, 'source', pr.prosrc) ORDER BY pr.proname)
                        FROM pg_depend d
                        LEFT JOIN pg_operator op ON d.refclassid = 'pg_operator'::regclass AND op.oid = d.refobjid
                        JOIN pg_proc pr ON pr.oid = CASE WHEN op.oid IS NULL THEN d.refobjid ELSE op.oprcode::oid END
                        JOIN pg_namespace fn ON fn.oid = pr.pronamespace
                       WHERE d.classid = 'pg_policy'::regclass AND d.objid = p.oid
                         AND d.refclassid IN ('pg_proc'::regclass, 'pg_operator'::regclass)), '[]'::json) AS functions
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
    functions: row.functions,
    // Only the functions called by name: an operator's code is C or internal, never a helper that reads the setting.
    functionSources: (row.functions as PolicyFunction[]).filter((fn) => !fn.name.startsWith('operator ')).map((fn) => fn.source),
  }))
}
