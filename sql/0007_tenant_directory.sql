-- tenantscope 0007: the tenant directory that @tenantscope/router reads.
-- Where each tenant lives: its strategy (pool = shared schema + RLS,
-- schema = a schema of its own, database = a database of its own), the
-- schema and role, the connection key of its database, its region, and its
-- state. Every change is announced on the channel tenantscope_directory
-- (payload: the tenant id), so that every app instance drops its cached entry.
-- Idempotent: safe to run again.

CREATE TABLE IF NOT EXISTS tenantscope.tenant_directory (
  tenant_id    text PRIMARY KEY,
  strategy     text NOT NULL CHECK (strategy IN ('pool', 'schema', 'database')),
  schema_name  text CHECK (schema_name ~ '^[a-z_][a-z0-9_]{0,62}$'),
  role_name    text CHECK (role_name ~ '^[a-z_][a-z0-9_]{0,62}$'),
  database_key text,
  region       text,
  state        text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'read_only', 'moving', 'suspended')),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CHECK (strategy <> 'schema' OR (schema_name IS NOT NULL AND role_name IS NOT NULL)),
  CHECK (strategy <> 'database' OR database_key IS NOT NULL)
);

CREATE OR REPLACE FUNCTION tenantscope.notify_tenant_directory()
  RETURNS trigger
  LANGUAGE plpgsql
AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM pg_notify('tenantscope_directory', OLD.tenant_id);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM pg_notify('tenantscope_directory', NEW.tenant_id);
  END IF;
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS tenant_directory_notify ON tenantscope.tenant_directory;
CREATE TRIGGER tenant_directory_notify
  AFTER INSERT OR UPDATE OR DELETE ON tenantscope.tenant_directory
  FOR EACH ROW EXECUTE FUNCTION tenantscope.notify_tenant_directory();

-- The app reads where tenants live; only the owner and maintenance change it.
GRANT SELECT ON tenantscope.tenant_directory TO tenantscope_app;
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tenantscope_maintenance') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON tenantscope.tenant_directory TO tenantscope_maintenance;
  END IF;
END
$$;
