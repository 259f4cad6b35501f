import { DoctorError } from '../doctor-error.js'
import type { DoctorQueryable } from './queryable.js'

export interface RoleInfo {
  name: string
  superuser: boolean
  bypassrls: boolean
  /** CREATEROLE: the role can grant itself any non-superuser role (a BYPASSRLS one included) and SET ROLE to it. */
  createrole: boolean
  /** The role the connection runs as (current_user): a fix must never demote it, it is the one running the check. */
  connected: boolean
  /** The bootstrap superuser (usually `postgres`): PostgreSQL refuses to take SUPERUSER from it. */
  bootstrap: boolean
  /** Roles the role is a member of (directly or not) that are superuser, BYPASSRLS or CREATEROLE. */
  privilegedMemberships: { name: string; superuser: boolean; bypassrls: boolean; createrole: boolean }[]
  /** Every role the role is a member of, itself included. */
  memberOf: string[]
  /** The grants (pg_auth_members) that make up those memberships: `role` granted to `member`. */
  grants: { role: string; member: string }[]
}

/**
 * The role `name` (default: the connected role) with its attributes and
 * memberships. Throws DoctorError ROLE_NOT_FOUND when there is no such role.
 */
export async function loadRole(db: DoctorQueryable, name?: string): Promise<RoleInfo> {
  const { rows } = await db.query(
    `SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolbypassrls AS bypassrls, r.rolcreaterole AS createrole,
            r.rolname = current_user AS connected, r.oid = 10 AS bootstrap,
            ARRAY(SELECT m.rolname::text FROM pg_roles m WHERE pg_has_role(r.oid, m.oid, 'MEMBER') ORDER BY 1) AS member_of,
            coalesce((SELECT json_agg(json_build_object('role', pg_get_userbyid(am.roleid), 'member', pg_get_userbyid(am.member)) ORDER BY 1)
                        FROM pg_auth_members am WHERE pg_has_role(r.oid, am.member, 'MEMBER')), '[]'::json) AS grants,
            coalesce((SELECT json_agg(json_build_object('name', m.rolname, 'superuser', m.rolsuper, 'bypassrls', m.rolbypassrls,
                                                        'createrole', m.rolcreaterole)
                                      ORDER BY m.rolname)
                        FROM pg_roles m
                       WHERE m.oid <> r.oid AND pg_has_role(r.oid, m.oid, 'MEMBER') AND (m.rolsuper OR m.rolbypassrls OR m.rolcreaterole)), '[]'::json) AS privileged
       FROM pg_roles r
      WHERE r.rolname = coalesce($1, current_user::text)`,
    [name ?? null],
  )
  const row = rows[0]
  if (!row) throw new DoctorError('ROLE_NOT_FOUND', `Role ${name ?? '(current)'} does not exist`)
  return {
    name: row.name,
    superuser: row.superuser,
    bypassrls: row.bypassrls,
    createrole: row.createrole,
    connected: row.connected,
    bootstrap: row.bootstrap,
    memberOf: row.member_of,
    grants: row.grants,
    privilegedMemberships: row.privileged,
  }
}
