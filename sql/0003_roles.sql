-- tenantscope 0003: role templates.
-- tenantscope_app: what the application connects as (through a LOGIN role that
--   is a member of it). Not superuser, not BYPASSRLS, owns nothing: RLS applies.
-- tenantscope_maintenance: migrations, maintenance and cross-tenant jobs, on a
--   separate pool. BYPASSRLS is a role attribute, so it is not inherited:
--   give the attribute to the LOGIN role that the maintenance pool uses.
-- There is deliberately no "is_admin" setting: any SQL could set it.
-- Roles are cluster-wide; this file only creates them when missing.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tenantscope_app') THEN
    CREATE ROLE tenantscope_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tenantscope_maintenance') THEN
    BEGIN
      CREATE ROLE tenantscope_maintenance NOLOGIN BYPASSRLS;
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE NOTICE 'tenantscope: not allowed to create a BYPASSRLS role; create tenantscope_maintenance as a superuser';
    END;
  END IF;
END
$$;

GRANT USAGE ON SCHEMA tenantscope TO tenantscope_app;
GRANT EXECUTE ON FUNCTION tenantscope.current_tenant(), tenantscope.current_tenant_id(),
  tenantscope.set_local(text, text) TO tenantscope_app;
-- Only owners and maintenance may change a table's policies.
REVOKE ALL ON FUNCTION tenantscope.enable_tenant_rls(regclass, name) FROM PUBLIC;
