/** Login roles the tests connect as. Cluster-wide, so created idempotently. */
export const APP_ROLE = { name: 'tenantscope_test_app', password: 'tenantscope-app' } as const
export const MAINTENANCE_ROLE = { name: 'tenantscope_test_maintenance', password: 'tenantscope-maintenance' } as const

/**
 * The application role: not superuser, not BYPASSRLS, owns nothing, and gets
 * its table privileges through the tenantscope_app template role.
 * The maintenance role bypasses RLS for cross-tenant work, on its own pool.
 */
export const ROLES_SQL = `
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${APP_ROLE.name}') THEN
    CREATE ROLE ${APP_ROLE.name} LOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${MAINTENANCE_ROLE.name}') THEN
    CREATE ROLE ${MAINTENANCE_ROLE.name} LOGIN;
  END IF;
END
$$;
ALTER ROLE ${APP_ROLE.name} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD '${APP_ROLE.password}';
ALTER ROLE ${MAINTENANCE_ROLE.name} LOGIN NOSUPERUSER BYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD '${MAINTENANCE_ROLE.password}';
GRANT tenantscope_app TO ${APP_ROLE.name};
GRANT tenantscope_app TO ${MAINTENANCE_ROLE.name};
`
