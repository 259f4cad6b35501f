-- tenantscope 0001: the schema and the helpers that read the tenant setting.
-- Idempotent: safe to run again.

CREATE SCHEMA IF NOT EXISTS tenantscope;

-- The current tenant as text, or NULL when no tenant is set.
-- NULLIF matters: once a custom setting has been set in a session,
-- current_setting(x, true) returns '' (not NULL) after the transaction ends.
CREATE OR REPLACE FUNCTION tenantscope.current_tenant()
  RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT NULLIF(current_setting('app.current_tenant', true), '') $$;

-- The current tenant as uuid, or NULL when unset (never an error).
-- For your own policies and queries; call it as (SELECT tenantscope.current_tenant_id())
-- so that it is evaluated once per statement and the tenant-first index can be used.
-- The policy and default that enable_tenant_rls (0002) creates do not call these
-- helpers but spell out the same expression: PostgreSQL re-parses a LANGUAGE sql
-- body every time it inlines it while planning, which costs about 9% more
-- server CPU per point read (docs/benchmarks-policy.md). Keep the two spellings in step.
CREATE OR REPLACE FUNCTION tenantscope.current_tenant_id()
  RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT NULLIF(current_setting('app.current_tenant', true), '')::uuid $$;

-- Transaction-local SET for settings that must reach Citus workers:
-- set_config() is not propagated to workers, SET LOCAL is
-- (with citus.propagate_set_commands = 'local'). The value stays a parameter;
-- the name is checked against a strict pattern before it is spliced in.
CREATE OR REPLACE FUNCTION tenantscope.set_local(setting text, value text)
  RETURNS text
  LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
  IF setting IS NULL OR setting !~ '^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$' THEN
    RAISE EXCEPTION 'tenantscope.set_local: invalid setting name' USING ERRCODE = '22023';
  END IF;
  EXECUTE format('SET LOCAL %s = %L', setting, value);
  RETURN value;
END
$$;
