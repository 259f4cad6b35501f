-- tenantscope 0002: tenantscope.enable_tenant_rls(table, column[, setting])
-- Turns a table into a tenant table: RLS enabled AND forced (without FORCE the
-- owner bypasses every policy), one policy for all commands with USING and
-- WITH CHECK on the bare tenant column, a column default taken from the
-- setting, and a tenant-first index when none exists. Idempotent.
-- The setting defaults to app.current_tenant; pass the one you gave
-- createTenantPool({ setting }) when it is another.

-- The setting read back as the column's type, NULL when unset or reset to ''.
-- Written out rather than calling tenantscope.current_tenant_id(): PostgreSQL
-- re-parses a LANGUAGE sql function's body each time it inlines it while
-- planning, which costs about 9% more server CPU per point read
-- (pnpm bench:policy, docs/benchmarks-policy.md).
-- text columns need no cast; any other type gets ::<type>, as before.
-- The same text as tenantExpression() of @tenantscope/sql, which the Drizzle
-- helpers and the doctor use (a test holds the two spellings together).
CREATE OR REPLACE FUNCTION tenantscope.tenant_expression(col_type regtype, setting text)
  RETURNS text
  LANGUAGE sql IMMUTABLE
AS $$
  SELECT CASE
    WHEN col_type = 'text'::regtype THEN format($e$NULLIF(current_setting(%L, true), '')$e$, setting)
    ELSE format($e$NULLIF(current_setting(%L, true), '')::%s$e$, setting, col_type)
  END
$$;

-- The one-argument form of earlier versions: the default setting. (Two
-- functions rather than a DEFAULT: a call with one argument must not be
-- ambiguous on a database that still has the old function.)
CREATE OR REPLACE FUNCTION tenantscope.tenant_expression(col_type regtype)
  RETURNS text
  LANGUAGE sql IMMUTABLE
AS $$ SELECT tenantscope.tenant_expression(col_type, 'app.current_tenant') $$;

CREATE OR REPLACE FUNCTION tenantscope.enable_tenant_rls(tbl regclass, col name, setting text)
  RETURNS void
  LANGUAGE plpgsql
  -- Names print schema-qualified, so a default is recognised whatever the
  -- caller's search_path, and no object of the caller's shadows a built-in.
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  col_num smallint;
  col_type regtype;
  current_default text;
  tenant_expr text;
  policy_name text := 'tenantscope_isolation';
BEGIN
  SELECT a.attnum, a.atttypid::regtype, pg_get_expr(d.adbin, d.adrelid)
    INTO col_num, col_type, current_default
    FROM pg_attribute a
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attrelid = tbl AND a.attname = col AND NOT a.attisdropped;
  IF col_num IS NULL THEN
    RAISE EXCEPTION 'tenantscope.enable_tenant_rls: % has no column %', tbl, col USING ERRCODE = '42703';
  END IF;
  -- The name rule of createTenantPool({ setting }): a custom setting needs a dot.
  IF setting IS NULL OR setting !~ '^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$' THEN
    RAISE EXCEPTION 'tenantscope.enable_tenant_rls: the setting must be a dotted name such as app.current_tenant'
      USING ERRCODE = '22023';
  END IF;

  tenant_expr := tenantscope.tenant_expression(col_type, setting);

  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);

  -- Re-created on every run so a changed definition converges.
  IF EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = tbl AND polname = policy_name) THEN
    EXECUTE format('DROP POLICY %I ON %s', policy_name, tbl);
  END IF;
  -- The column stays bare (no cast) so the tenant-first index applies; the
  -- sub-select makes the setting an InitPlan evaluated once per statement,
  -- where the bare expression is read again on every rescan of a nested
  -- loop's inner side (docs/benchmarks-policy.md).
  EXECUTE format(
    'CREATE POLICY %I ON %s AS PERMISSIVE FOR ALL USING (%I = (SELECT %s)) WITH CHECK (%I = (SELECT %s))',
    policy_name, tbl, col, tenant_expr, col, tenant_expr);

  -- Inserts need not name the tenant. A default of the user's is left alone;
  -- the one this function set for this column type before the expression was
  -- inlined (a helper call, as pg_get_expr prints it under the pinned
  -- search_path) is replaced, so a re-run converges. Matched per type: an
  -- implicit cast prints as nothing, so current_tenant_id() on a text column
  -- reads the same as on a uuid one, and that default is not ours.
  -- An inlined default that reads a setting (this function's, maybe with
  -- another setting) is replaced too, so a re-run with a new setting converges.
  -- (The CASE is parenthesised: PL/pgSQL ends an IF condition at the first bare THEN.)
  IF current_default IS NULL
     OR current_default ~ '^\(*NULLIF\(current_setting\(''[A-Za-z0-9_.]+''::text, true\), ''''::text\)\)*(::[a-z ]+)?$'
     OR current_default = (CASE
       WHEN col_type = 'uuid'::regtype THEN 'tenantscope.current_tenant_id()'
       WHEN col_type = 'text'::regtype THEN 'tenantscope.current_tenant()'
       ELSE format('(tenantscope.current_tenant())::%s', col_type)
     END) THEN
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

-- The two-argument form of earlier versions (and of most calls): the default setting.
CREATE OR REPLACE FUNCTION tenantscope.enable_tenant_rls(tbl regclass, col name DEFAULT 'tenant_id')
  RETURNS void
  LANGUAGE sql
AS $$ SELECT tenantscope.enable_tenant_rls(tbl, col, 'app.current_tenant') $$;

-- Only owners and maintenance may change a table's policies (0003 does the same for the two-argument form).
REVOKE ALL ON FUNCTION tenantscope.enable_tenant_rls(regclass, name, text) FROM PUBLIC;
-- The two-argument form now calls the three-argument one: whoever was granted
-- EXECUTE on the former (a migration role) gets the latter too.
DO $$
DECLARE
  grantee text;
BEGIN
  FOR grantee IN
    SELECT DISTINCT pg_get_userbyid(acl.grantee)
      FROM pg_proc p, aclexplode(p.proacl) AS acl
     WHERE p.oid = 'tenantscope.enable_tenant_rls(regclass, name)'::regprocedure
       AND acl.privilege_type = 'EXECUTE' AND acl.grantee <> 0 AND acl.grantee <> p.proowner
  LOOP
    EXECUTE format('GRANT EXECUTE ON FUNCTION tenantscope.enable_tenant_rls(regclass, name, text) TO %I', grantee);
  END LOOP;
END
$$;
