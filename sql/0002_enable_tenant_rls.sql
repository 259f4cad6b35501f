-- tenantscope 0002: tenantscope.enable_tenant_rls(table, column)
-- Turns a table into a tenant table: RLS enabled AND forced (without FORCE the
-- owner bypasses every policy), one policy for all commands with USING and
-- WITH CHECK on the bare tenant column, a column default taken from the
-- setting, and a tenant-first index when none exists. Idempotent.

CREATE OR REPLACE FUNCTION tenantscope.tenant_expression(col_type regtype)
  RETURNS text
  LANGUAGE sql IMMUTABLE
AS $$
  SELECT CASE
    WHEN col_type = 'uuid'::regtype THEN 'tenantscope.current_tenant_id()'
    ELSE format('tenantscope.current_tenant()::%s', col_type)
  END
$$;

CREATE OR REPLACE FUNCTION tenantscope.enable_tenant_rls(tbl regclass, col name DEFAULT 'tenant_id')
  RETURNS void
  LANGUAGE plpgsql
AS $$
DECLARE
  col_num smallint;
  col_type regtype;
  has_default boolean;
  tenant_expr text;
  policy_name text := 'tenantscope_isolation';
BEGIN
  SELECT a.attnum, a.atttypid::regtype, a.atthasdef
    INTO col_num, col_type, has_default
    FROM pg_attribute a
   WHERE a.attrelid = tbl AND a.attname = col AND NOT a.attisdropped;
  IF col_num IS NULL THEN
    RAISE EXCEPTION 'tenantscope.enable_tenant_rls: % has no column %', tbl, col USING ERRCODE = '42703';
  END IF;

  tenant_expr := tenantscope.tenant_expression(col_type);

  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);

  -- Re-created on every run so a changed definition converges.
  IF EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = tbl AND polname = policy_name) THEN
    EXECUTE format('DROP POLICY %I ON %s', policy_name, tbl);
  END IF;
  -- The column stays bare (no cast) so the tenant-first index applies; the
  -- sub-select makes the setting an InitPlan evaluated once per statement.
  EXECUTE format(
    'CREATE POLICY %I ON %s AS PERMISSIVE FOR ALL USING (%I = (SELECT %s)) WITH CHECK (%I = (SELECT %s))',
    policy_name, tbl, col, tenant_expr, col, tenant_expr);

  -- Inserts need not name the tenant; an existing default is left alone.
  IF NOT has_default THEN
    EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT %s', tbl, col, tenant_expr);
  END IF;

  IF NOT EXISTS (
    SELECT 1 FROM pg_index i
     WHERE i.indrelid = tbl AND i.indkey[0] = col_num
  ) THEN
    EXECUTE format('CREATE INDEX ON %s (%I)', tbl, col);
  END IF;
END
$$;
