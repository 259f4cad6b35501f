-- tenantscope 0003: role templates.
-- The app role (default tenantscope_app): what the application connects as,
--   through a LOGIN role that is a member of it. Not superuser, not BYPASSRLS,
--   owns nothing: RLS applies.
-- The maintenance role (default tenantscope_maintenance): migrations,
--   maintenance and cross-tenant jobs, on a separate pool. BYPASSRLS is a role
--   attribute, so it is not inherited: give the attribute to the LOGIN role
--   that the maintenance pool uses.
-- There is deliberately no "is_admin" setting: any SQL could set it.
--
-- Roles are cluster-wide: one role name serves every database on the server.
-- If two applications on one server both use tenantscope_app, each one's
-- login role can connect to the other's database and use the grants made
-- there to tenantscope_app. So give each application (or database) its own
-- names, before running the migrations, once per database:
--   ALTER DATABASE billing SET tenantscope.app_role = 'billing_app';
--   ALTER DATABASE billing SET tenantscope.maintenance_role = 'billing_maintenance';
-- (new sessions of that database see them; applyMigrations(db, { appRole,
-- maintenanceRole }) sets them for its own run), and close the database to
-- everyone else:
--   REVOKE CONNECT, TEMPORARY ON DATABASE billing FROM PUBLIC;
-- This file grants CONNECT on the current database to both roles.
-- It only creates roles that are missing; running it again changes nothing.

DO $$
DECLARE
  app_role text := coalesce(nullif(current_setting('tenantscope.app_role', true), ''), 'tenantscope_app');
  maintenance_role text := coalesce(nullif(current_setting('tenantscope.maintenance_role', true), ''), 'tenantscope_maintenance');
BEGIN
  IF app_role !~ '^[a-z_][a-z0-9_]{0,62}$' OR maintenance_role !~ '^[a-z_][a-z0-9_]{0,62}$' THEN
    RAISE EXCEPTION 'tenantscope: tenantscope.app_role and tenantscope.maintenance_role must be lower-case identifiers'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF app_role = maintenance_role THEN
    RAISE EXCEPTION 'tenantscope: the app role and the maintenance role must differ' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app_role) THEN
    EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE', app_role);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = maintenance_role) THEN
    BEGIN
      EXECUTE format('CREATE ROLE %I NOLOGIN BYPASSRLS', maintenance_role);
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE NOTICE 'tenantscope: not allowed to create a BYPASSRLS role; create % as a superuser', maintenance_role;
    END;
  END IF;

  EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), app_role);
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = maintenance_role) THEN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), maintenance_role);
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA tenantscope TO %I', app_role);
  EXECUTE format('GRANT EXECUTE ON FUNCTION tenantscope.current_tenant(), tenantscope.current_tenant_id(),
    tenantscope.set_local(text, text) TO %I', app_role);

  -- A role that can connect to other databases is shared, or CONNECT is still
  -- open to PUBLIC there: say so (the doctor reports it too).
  IF EXISTS (
    SELECT 1 FROM pg_database d
     WHERE d.datname <> current_database() AND d.datallowconn AND NOT d.datistemplate
       AND has_database_privilege(app_role, d.oid, 'CONNECT')
  ) THEN
    RAISE NOTICE 'tenantscope: role % can connect to other databases on this server; give each application its own '
      'app role (tenantscope.app_role) and REVOKE CONNECT ON DATABASE ... FROM PUBLIC', app_role;
  END IF;
END
$$;

-- Only owners and maintenance may change a table's policies.
REVOKE ALL ON FUNCTION tenantscope.enable_tenant_rls(regclass, name) FROM PUBLIC;
