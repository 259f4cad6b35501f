-- tenantscope 0005: Citus. tenantscope.distribute_tenant_table(table, column, colocate_with)
-- and tenantscope.distribute_reference_table(table).
-- Safe on PostgreSQL without Citus: the functions only need Citus when called.
-- What Citus refuses, measured on a 3-node Citus 13.2 cluster, and what these do about it:
-- - policies on distributed tables may not hold sub-selects: the policy is the
--   plain comparison (workers still use it as an index condition);
-- - a default cannot be added to the distribution column after distribution:
--   it is set before;
-- - unique keys must include the distribution column: checked first, with the fix.
-- Idempotent: a table already distributed by the tenant column is only brought
-- to the same policy, FORCE and default.

-- True when Citus is installed here and tbl is a reference table.
CREATE OR REPLACE FUNCTION tenantscope.is_reference_table(tbl regclass)
  RETURNS boolean
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  found boolean;
BEGIN
  IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
    RETURN false;
  END IF;
  EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $1 AND partmethod = ''n'' AND repmodel = ''t'')'
    INTO found USING tbl;
  RETURN found;
END
$$;

-- The name of every unique key, exclusion constraint or unique index of tbl
-- that does not include column col_num; foreign keys that leave the tenant
-- column out (unless they point at a reference table, which Citus allows).
CREATE OR REPLACE FUNCTION tenantscope.keys_without_column(tbl regclass, col_num smallint)
  RETURNS TABLE (kind text, name text)
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE c.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique constraint' ELSE 'exclusion constraint' END,
         c.conname::text
    FROM pg_constraint c
   WHERE c.conrelid = tbl AND c.contype IN ('p', 'u', 'x') AND NOT (col_num = ANY (c.conkey))
  UNION ALL
  SELECT 'unique index', i.indexrelid::regclass::text
    FROM pg_index i
   WHERE i.indrelid = tbl AND i.indisunique AND NOT (col_num = ANY (i.indkey::smallint[]))
     AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = tbl)
  UNION ALL
  SELECT 'foreign key', c.conname::text
    FROM pg_constraint c
   WHERE c.conrelid = tbl AND c.contype = 'f' AND NOT (col_num = ANY (c.conkey))
     AND NOT EXISTS (SELECT 1 FROM pg_class r WHERE r.oid = c.confrelid AND tenantscope.is_reference_table(r.oid))
$$;

CREATE OR REPLACE FUNCTION tenantscope.require_citus(caller text)
  RETURNS void
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
    RAISE EXCEPTION '%: the citus extension is not installed in this database', caller
      USING ERRCODE = '0A000',
            HINT = 'Load citus (shared_preload_libraries), CREATE EXTENSION citus on the coordinator and every worker, and register the workers with citus_add_node.';
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION tenantscope.distribute_tenant_table(
  tbl regclass,
  col name DEFAULT 'tenant_id',
  colocate_with regclass DEFAULT NULL
)
  RETURNS void
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  col_num smallint;
  col_type regtype;
  current_default text;
  tenant_expr text;
  dist_col text;
  bad record;
  policy_name text := 'tenantscope_isolation';
  -- Distributing may recreate the table under a new oid (a table with a foreign
  -- key to a reference table is first added to Citus metadata as a local table).
  tbl_name text := tbl::text;
BEGIN
  PERFORM tenantscope.require_citus('tenantscope.distribute_tenant_table');

  SELECT a.attnum, a.atttypid::regtype, pg_get_expr(d.adbin, d.adrelid)
    INTO col_num, col_type, current_default
    FROM pg_attribute a
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attrelid = tbl AND a.attname = col AND NOT a.attisdropped;
  IF col_num IS NULL THEN
    RAISE EXCEPTION 'tenantscope.distribute_tenant_table: % has no column %', tbl, col USING ERRCODE = '42703';
  END IF;

  -- Citus refuses these with a message about "partition columns"; say which key and how to fix it.
  FOR bad IN SELECT * FROM tenantscope.keys_without_column(tbl, col_num) LOOP
    RAISE EXCEPTION 'tenantscope.distribute_tenant_table: the % % of % does not include the tenant column %', bad.kind, bad.name, tbl, col
      USING ERRCODE = '42P16',
            HINT = format('Put the tenant column first in every key of a distributed table, e.g. PRIMARY KEY (%I, id), '
                          'and reference other tenant tables by (%I, id).', col, col);
  END LOOP;

  -- Policies of the user's own with a sub-select: Citus refuses them on distributed tables.
  FOR bad IN
    SELECT p.polname
      FROM pg_policy p
     WHERE p.polrelid = tbl AND p.polname <> policy_name
       AND (coalesce(pg_get_expr(p.polqual, p.polrelid), '') ~* '\mselect\M'
            OR coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') ~* '\mselect\M')
  LOOP
    RAISE EXCEPTION 'tenantscope.distribute_tenant_table: policy % on % holds a sub-select, which Citus refuses on distributed tables', bad.polname, tbl
      USING ERRCODE = '0A000',
            HINT = format('Write it as a plain comparison: %I = NULLIF(current_setting(''app.current_tenant'', true), '''')::%s', col, col_type);
  END LOOP;

  tenant_expr := tenantscope.tenant_expression(col_type);

  EXECUTE 'SELECT column_to_column_name(logicalrelid, partkey) FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $1'
    INTO dist_col USING tbl;

  IF dist_col IS NULL THEN
    -- The shipped policy (enable_tenant_rls) has a sub-select: replace it before distributing.
    IF EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = tbl AND polname = policy_name) THEN
      EXECUTE format('DROP POLICY %I ON %s', policy_name, tbl);
    END IF;
    -- After distribution Citus refuses a new default on the distribution column.
    IF current_default IS NULL OR current_default LIKE '%current_setting(''app.current_tenant''%'
       OR current_default LIKE 'tenantscope.current_tenant%' OR current_default LIKE '(tenantscope.current_tenant()%' THEN
      EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT %s', tbl, col, tenant_expr);
    END IF;
    IF colocate_with IS NULL THEN
      EXECUTE 'SELECT create_distributed_table($1, $2)' USING tbl, col::text;
    ELSE
      EXECUTE 'SELECT create_distributed_table($1, $2, colocate_with => $3)' USING tbl, col::text, colocate_with::text;
    END IF;
    tbl := tbl_name::regclass;
  ELSIF dist_col <> col THEN
    RAISE EXCEPTION 'tenantscope.distribute_tenant_table: % is distributed by %, not by the tenant column %', tbl, dist_col, col
      USING ERRCODE = '42P16',
            HINT = 'undistribute_table() it first, or pass the column it is distributed by if that is the tenant column.';
  ELSIF current_default IS NULL THEN
    RAISE EXCEPTION 'tenantscope.distribute_tenant_table: % is distributed already and its tenant column % has no default', tbl, col
      USING ERRCODE = '0A000',
            HINT = 'Citus cannot add a default to a distribution column: undistribute_table(), then call distribute_tenant_table again.';
  END IF;

  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
  IF EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = tbl AND polname = policy_name) THEN
    EXECUTE format('DROP POLICY %I ON %s', policy_name, tbl);
  END IF;
  -- No sub-select (refused on distributed tables); the column stays bare, so
  -- the tenant-first index applies on each shard.
  EXECUTE format(
    'CREATE POLICY %I ON %s AS PERMISSIVE FOR ALL USING (%I = %s) WITH CHECK (%I = %s)',
    policy_name, tbl, col, tenant_expr, col, tenant_expr);

  IF NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = tbl AND i.indkey[0] = col_num) THEN
    EXECUTE format('CREATE INDEX ON %s (%I)', tbl, col);
  END IF;
END
$$;

-- Shared data (plans, currencies, feature flags): one copy on every node, joined
-- locally with any tenant's shard. A table with the tenant column holds tenant
-- rows and must be a distributed tenant table instead: refused.
CREATE OR REPLACE FUNCTION tenantscope.distribute_reference_table(tbl regclass, tenant_col name DEFAULT 'tenant_id')
  RETURNS void
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM tenantscope.require_citus('tenantscope.distribute_reference_table');
  IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = tbl AND attname = tenant_col AND NOT attisdropped) THEN
    RAISE EXCEPTION 'tenantscope.distribute_reference_table: % has the tenant column %: its rows belong to tenants', tbl, tenant_col
      USING ERRCODE = '42P16',
            HINT = 'A reference table is copied to every node and read without routing: use tenantscope.distribute_tenant_table for tenant rows.';
  END IF;
  IF NOT tenantscope.is_reference_table(tbl) THEN
    EXECUTE 'SELECT create_reference_table($1)' USING tbl;
  END IF;
END
$$;

-- Only owners and maintenance change how tables are distributed.
REVOKE ALL ON FUNCTION tenantscope.distribute_tenant_table(regclass, name, regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantscope.distribute_reference_table(regclass, name) FROM PUBLIC;

-- tenantscope.citus_audit(col): what keeps tenant tables from running well on
-- Citus (none of it leaks rows: RLS still decides; it costs routing or joins).
-- Empty when Citus is not installed.
--   not_distributed             a tenant table that is not distributed (it stays on the coordinator)
--   distributed_by_other_column a tenant table distributed by another column: no query can route by tenant
--   not_colocated               tenant tables in more than one colocation group: joins between them cannot run on one node
--   reference_table_with_tenant_rows  a reference table with the tenant column: tenant rows copied to every node, never routed
CREATE OR REPLACE FUNCTION tenantscope.citus_audit(col name DEFAULT 'tenant_id')
  RETURNS TABLE (object_name text, problem text, detail text)
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
    RETURN;
  END IF;
  RETURN QUERY EXECUTE $q$
    WITH tenant_tables AS (
      SELECT c.oid, format('%I.%I', n.nspname, c.relname) AS name, d.partmethod, d.repmodel, d.colocationid,
             CASE WHEN d.partmethod = 'h' THEN column_to_column_name(d.logicalrelid, d.partkey) END AS dist_col
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = $1 AND NOT a.attisdropped
        LEFT JOIN pg_dist_partition d ON d.logicalrelid = c.oid
       WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
         AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tenantscope', 'citus', 'columnar')
         AND n.nspname NOT LIKE 'pg_toast%'
    ),
    groups AS (
      SELECT colocationid, count(*) AS tables FROM tenant_tables WHERE partmethod = 'h' AND dist_col = $1 GROUP BY 1
    )
    SELECT name, 'not_distributed', 'not a distributed table: run tenantscope.distribute_tenant_table(''' || name || ''')'
      FROM tenant_tables WHERE partmethod IS NULL OR (partmethod = 'n' AND repmodel <> 't')
    UNION ALL
    SELECT name, 'distributed_by_other_column', format('distributed by %s, not %s: no query can be routed by tenant', dist_col, $1)
      FROM tenant_tables WHERE partmethod = 'h' AND dist_col <> $1
    UNION ALL
    SELECT name, 'not_colocated', format('colocation group %s, while most tenant tables are in group %s', colocationid,
                                         (SELECT colocationid FROM groups ORDER BY tables DESC, colocationid LIMIT 1))
      FROM tenant_tables t
     WHERE partmethod = 'h' AND dist_col = $1 AND (SELECT count(*) FROM groups) > 1
       AND colocationid <> (SELECT colocationid FROM groups ORDER BY tables DESC, colocationid LIMIT 1)
    UNION ALL
    SELECT name, 'reference_table_with_tenant_rows', 'a reference table with the tenant column: use tenantscope.distribute_tenant_table'
      FROM tenant_tables WHERE partmethod = 'n' AND repmodel = 't'
    ORDER BY 1, 2
  $q$ USING col;
END
$$;

GRANT EXECUTE ON FUNCTION tenantscope.citus_audit(name) TO tenantscope_app;
