/**
 * The policy forms `pnpm bench:policy` compares, each in a schema of its own
 * holding the same tables and data, and the statements it runs against them.
 * Every form reads the same setting and casts it the same way; only where the
 * expression sits differs (in a sub-select, bare, behind a SQL function).
 */

export const SETTING = 'app.current_tenant'
const READ = `NULLIF(current_setting('${SETTING}', true), '')::uuid`

export interface PolicyForm {
  /** The schema the form's tables live in; the pool's search_path. */
  readonly name: string
  readonly label: string
  /** The right-hand side of `tenant_id = ...`. */
  readonly expression: string
}

export const FORMS: readonly PolicyForm[] = [
  { name: 'sub', label: 'sub-select (shipped)', expression: `(SELECT ${READ})` },
  { name: 'bare', label: 'bare expression', expression: READ },
  { name: 'fn', label: 'SQL function, bare call', expression: 'policy_bench.current_tenant_id()' },
  { name: 'fn_sub', label: 'SQL function in a sub-select', expression: '(SELECT policy_bench.current_tenant_id())' },
  { name: 'fn_leakproof', label: 'SQL function LEAKPROOF, bare call', expression: 'policy_bench.current_tenant_id_leakproof()' },
]

/** Helpers shared by every form: the functions of the function forms, and a user function for the "function in WHERE" case. */
export const SHARED_SQL = `
CREATE SCHEMA policy_bench;
-- The shipped tenantscope.current_tenant_id(), copied so the bench needs no migration.
CREATE FUNCTION policy_bench.current_tenant_id() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT ${READ} $$;
CREATE FUNCTION policy_bench.current_tenant_id_leakproof() RETURNS uuid
  LANGUAGE sql STABLE LEAKPROOF PARALLEL SAFE AS $$ SELECT ${READ} $$;
-- A user's function (not inlinable, not leakproof), as a query might call one.
CREATE FUNCTION policy_bench.looks_big(amount bigint) RETURNS boolean
  LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN amount > 50000; END $$;
`

export interface Sizes {
  tenants: number
  projectsPerTenant: number
}

export const tenantUuid = (n: number) => `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`

/** One form's tables, data, policy, indexes and view, built as the admin (then VACUUM ANALYZE, outside a transaction). */
export function formSql(form: PolicyForm, sizes: Sizes, appRole: string): string {
  const s = form.name
  const tenantOf = (n: string) => `('00000000-0000-0000-0000-' || lpad((${n})::text, 12, '0'))::uuid`
  const policy = (table: string) => `
ALTER TABLE ${s}.${table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE ${s}.${table} FORCE ROW LEVEL SECURITY;
CREATE POLICY isolation ON ${s}.${table} FOR ALL
  USING (tenant_id = ${form.expression}) WITH CHECK (tenant_id = ${form.expression});`
  return `
CREATE SCHEMA ${s};
CREATE TABLE ${s}.projects (
  tenant_id uuid NOT NULL DEFAULT ${READ}, id bigint NOT NULL, name text NOT NULL,
  created_at timestamptz NOT NULL, PRIMARY KEY (tenant_id, id));
CREATE INDEX ON ${s}.projects (tenant_id, created_at);
CREATE TABLE ${s}.invoices (
  tenant_id uuid NOT NULL DEFAULT ${READ}, id bigint NOT NULL, project_id bigint NOT NULL,
  amount_cents bigint NOT NULL, PRIMARY KEY (tenant_id, id));
CREATE INDEX ON ${s}.invoices (tenant_id, project_id);
-- A small lookup table: few rows per tenant, so the planner scans it whole.
CREATE TABLE ${s}.plans (
  tenant_id uuid NOT NULL DEFAULT ${READ}, code text NOT NULL, PRIMARY KEY (tenant_id, code));
-- Append-only, for the insert workload.
CREATE TABLE ${s}.events (
  tenant_id uuid NOT NULL DEFAULT ${READ}, id bigint GENERATED ALWAYS AS IDENTITY, payload text NOT NULL,
  PRIMARY KEY (tenant_id, id));
INSERT INTO ${s}.projects
  SELECT ${tenantOf('t')}, (t - 1) * ${sizes.projectsPerTenant} + p, 'project ' || p, now() - p * interval '1 minute'
    FROM generate_series(1, ${sizes.tenants}) t, generate_series(1, ${sizes.projectsPerTenant}) p;
INSERT INTO ${s}.invoices
  SELECT tenant_id, id * 3 + k, id, (hashint8(id * 3 + k) & 65535) * 2 FROM ${s}.projects, generate_series(0, 2) k;
INSERT INTO ${s}.plans SELECT ${tenantOf('t')}, c FROM generate_series(1, ${sizes.tenants}) t, unnest(ARRAY['free', 'pro']) c;
${policy('projects')}
${policy('invoices')}
${policy('plans')}
${policy('events')}
CREATE VIEW ${s}.project_totals WITH (security_invoker = true) AS
  SELECT p.id, p.name, sum(i.amount_cents) AS total FROM ${s}.projects p JOIN ${s}.invoices i ON i.project_id = p.id GROUP BY p.id, p.name;
GRANT USAGE ON SCHEMA ${s} TO ${appRole};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${appRole};
`
}

export interface PolicyCase {
  readonly name: string
  /** What the case exercises, for the report. */
  readonly about: string
  readonly sql: string
  /** Parameters for a tenant numbered `tenant` (1-based), drawing `draw` ∈ [0, 1). */
  params(tenant: number, draw: number, sizes: Sizes): unknown[]
}

const projectOf = (tenant: number, draw: number, sizes: Sizes) =>
  (tenant - 1) * sizes.projectsPerTenant + 1 + Math.floor(draw * sizes.projectsPerTenant)

export const CASES: readonly PolicyCase[] = [
  {
    name: 'point',
    about: 'point read by key',
    sql: 'SELECT id, name, created_at FROM projects WHERE id = $1',
    params: (t, d, s) => [projectOf(t, d, s)],
  },
  {
    name: 'top10',
    about: 'top 10 by created_at',
    sql: 'SELECT id, name, created_at FROM projects ORDER BY created_at DESC LIMIT 10',
    params: () => [],
  },
  {
    name: 'insert',
    about: 'insert (WITH CHECK, tenant from the default)',
    sql: 'INSERT INTO events (payload) VALUES ($1)',
    params: () => ['x'],
  },
  {
    name: 'update',
    about: 'update by key (USING and WITH CHECK)',
    sql: 'UPDATE projects SET name = name WHERE id = $1',
    params: (t, d, s) => [projectOf(t, d, s)],
  },
  {
    name: 'join',
    about: 'nested loop over two RLS tables (20 outer rows)',
    sql: 'SELECT p.id, i.amount_cents FROM (SELECT id FROM projects ORDER BY created_at DESC LIMIT 20) p JOIN invoices i ON i.project_id = p.id',
    params: () => [],
  },
  {
    name: 'correlated',
    about: 'correlated scalar sub-query per row (SubPlan, 20 rows)',
    sql: 'SELECT p.id, (SELECT sum(amount_cents) FROM invoices i WHERE i.project_id = p.id) FROM projects p ORDER BY p.created_at DESC LIMIT 20',
    params: () => [],
  },
  {
    name: 'exists',
    about: 'correlated EXISTS',
    sql: 'SELECT count(*) FROM projects p WHERE EXISTS (SELECT 1 FROM invoices i WHERE i.project_id = p.id AND i.amount_cents > 120000)',
    params: () => [],
  },
  {
    name: 'in',
    about: 'IN (sub-query)',
    sql: "SELECT id, amount_cents FROM invoices WHERE project_id IN (SELECT id FROM projects WHERE name LIKE 'project 1_')",
    params: () => [],
  },
  {
    name: 'lateral',
    about: 'LATERAL top-1 per outer row (20 rows)',
    sql: 'SELECT p.id, l.amount_cents FROM (SELECT id, created_at FROM projects ORDER BY created_at DESC LIMIT 20) p CROSS JOIN LATERAL (SELECT amount_cents FROM invoices i WHERE i.project_id = p.id ORDER BY amount_cents DESC LIMIT 1) l',
    params: () => [],
  },
  {
    name: 'lateral_all',
    about: "LATERAL top-1 for each of the tenant's 200 projects",
    sql: 'SELECT p.id, l.amount_cents FROM projects p CROSS JOIN LATERAL (SELECT amount_cents FROM invoices i WHERE i.project_id = p.id ORDER BY amount_cents DESC LIMIT 1) l',
    params: () => [],
  },
  {
    name: 'user_fn',
    about: 'user STABLE plpgsql function in WHERE (not leakproof)',
    sql: 'SELECT count(*) FROM invoices WHERE policy_bench.looks_big(amount_cents)',
    params: () => [],
  },
  {
    name: 'volatile',
    about: 'VOLATILE function in WHERE',
    sql: 'SELECT id FROM projects WHERE random() < 0.5 ORDER BY created_at DESC LIMIT 10',
    params: () => [],
  },
  {
    name: 'ilike',
    about: 'non-leakproof operator (ILIKE) on text',
    sql: "SELECT count(*) FROM projects WHERE name ILIKE '%7%'",
    params: () => [],
  },
  {
    name: 'view',
    about: 'security_invoker view with a join and GROUP BY',
    sql: 'SELECT id, total FROM project_totals ORDER BY total DESC LIMIT 5',
    params: () => [],
  },
  {
    name: 'order_name',
    about: 'ORDER BY an unindexed column, LIMIT',
    sql: 'SELECT id, name FROM projects ORDER BY name LIMIT 10',
    params: () => [],
  },
  { name: 'small_table', about: 'small table the planner scans whole', sql: 'SELECT code FROM plans', params: () => [] },
]
