import type { DoctorQueryable } from './queryable.js'
import { SYSTEM_SCHEMAS } from './system-schemas.js'

export interface SecurityDefinerFunction {
  name: string
  owner: string
  ownerBypasses: boolean
  definition: string
  /** `role` may call it. */
  canExecute: boolean
}

/** SECURITY DEFINER functions and procedures outside the system schemas and extensions. */
export async function loadSecurityDefinerFunctions(db: DoctorQueryable, role: string): Promise<SecurityDefinerFunction[]> {
  const { rows } = await db.query(
    `SELECT format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) AS name,
            pg_get_userbyid(p.proowner) AS owner, (o.rolsuper OR o.rolbypassrls) AS owner_bypasses,
            CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) ELSE p.prosrc END AS definition,
            has_function_privilege($1, p.oid, 'EXECUTE') AS can_execute
       FROM pg_proc p
       JOIN pg_namespace n ON n.oid = p.pronamespace
       JOIN pg_roles o ON o.oid = p.proowner
      WHERE p.prosecdef AND ${SYSTEM_SCHEMAS}
        -- An extension's functions are the extension's business (and come back on every upgrade).
        AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
      ORDER BY 1`,
    [role],
  )
  return rows.map((row) => ({
    name: row.name,
    owner: row.owner,
    ownerBypasses: row.owner_bypasses,
    definition: row.definition,
    canExecute: row.can_execute,
  }))
}
