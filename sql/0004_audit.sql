-- tenantscope 0004: tenantscope.audit(col) and the view tenantscope.rls_audit.
-- Lists what silently defeats RLS: tenant tables (tables with the tenant
-- column) whose RLS is off, not forced, without a policy, or without a
-- tenant-first index; and roles that can log in and bypass RLS.

CREATE OR REPLACE FUNCTION tenantscope.audit(col name DEFAULT 'tenant_id')
  RETURNS TABLE (object_type text, object_name text, problem text, detail text)
  LANGUAGE sql STABLE
AS $$
  WITH tenant_tables AS (
    SELECT c.oid, c.relrowsecurity, c.relforcerowsecurity, a.attnum,
           format('%I.%I', n.nspname, c.relname) AS name
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = col AND NOT a.attisdropped
     WHERE c.relkind IN ('r', 'p')
       AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tenantscope')
       AND n.nspname NOT LIKE 'pg_toast%'
  )
  SELECT 'table', name, 'rls_disabled', 'row level security is not enabled'
    FROM tenant_tables WHERE NOT relrowsecurity
  UNION ALL
  SELECT 'table', name, 'rls_not_forced', 'the table owner bypasses its policies (no FORCE ROW LEVEL SECURITY)'
    FROM tenant_tables WHERE NOT relforcerowsecurity
  UNION ALL
  SELECT 'table', name, 'no_policy', 'no policy: with RLS enabled nobody but the owner sees rows'
    FROM tenant_tables t WHERE NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = t.oid)
  UNION ALL
  SELECT 'table', name, 'no_tenant_first_index', 'no index starts with the tenant column'
    FROM tenant_tables t WHERE NOT EXISTS (
      SELECT 1 FROM pg_index i WHERE i.indrelid = t.oid AND i.indkey[0] = t.attnum)
  UNION ALL
  SELECT 'role', format('%I', r.rolname), 'role_bypasses_rls',
         CASE WHEN r.rolsuper THEN 'superuser' ELSE 'BYPASSRLS' END
    FROM pg_roles r
   WHERE r.rolcanlogin AND (r.rolsuper OR r.rolbypassrls)
  ORDER BY 1, 2, 3
$$;

CREATE OR REPLACE VIEW tenantscope.rls_audit AS SELECT * FROM tenantscope.audit();

-- To the app role of this database (see 0003_roles: tenantscope.app_role).
DO $$
DECLARE
  app_role text := coalesce(nullif(current_setting('tenantscope.app_role', true), ''), 'tenantscope_app');
BEGIN
  EXECUTE format('GRANT EXECUTE ON FUNCTION tenantscope.audit(name) TO %I', app_role);
  EXECUTE format('GRANT SELECT ON tenantscope.rls_audit TO %I', app_role);
END
$$;
