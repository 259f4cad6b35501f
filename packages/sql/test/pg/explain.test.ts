import { createTenantPool, type TenantPool, withTenant } from '@tenantscope/core'
import { createTestDatabase, type TestDatabase, withClient } from '@tenantscope/test-harness'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

// Enough rows that the planner picks a Seq Scan when the index cannot serve
// the tenant predicate (asserted below on a copy with a broken policy), few
// enough for CI: 200 tenants × 100 projects.
const TENANTS = 200
const PER_TENANT = 100

interface PlanNode {
  'Node Type': string
  'Parent Relationship'?: string
  'Subplan Name'?: string
  'Index Name'?: string
  'Index Cond'?: string
  'Relation Name'?: string
  'Actual Loops'?: number
  Output?: string[]
  Plans?: PlanNode[]
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)]
}

// PostgreSQL ≤ 16 names the InitPlan's output $0; 17+ calls it (InitPlan 1).col1.
function initPlanParams(plan: PlanNode): string[] {
  return nodes(plan)
    .filter((node) => node['Parent Relationship'] === 'InitPlan')
    .flatMap((node) => {
      const name = node['Subplan Name'] ?? ''
      const returns = /returns (\$\d+)/.exec(name)?.[1]
      const number = /InitPlan (\d+)/.exec(name)?.[1]
      return [returns, number ? `(InitPlan ${number}).col1` : undefined].filter((param): param is string => param !== undefined)
    })
}

describe('the scoped queries use the tenant-first index through the InitPlan', () => {
  let db: TestDatabase
  let pool: TenantPool
  let tenant: string
  let project: string

  beforeAll(async () => {
    db = await createTestDatabase()
    await withClient(db.adminUrl, async (admin) => {
      await admin.query(`INSERT INTO tenants (name) SELECT 'tenant ' || g FROM generate_series(1, $1::int) g`, [TENANTS])
      await admin.query(
        `INSERT INTO projects (tenant_id, name, created_at)
         SELECT t.id, 'project ' || g, now() - g * interval '1 minute' FROM tenants t CROSS JOIN generate_series(1, $1::int) g`,
        [PER_TENANT],
      )
      await admin.query(`INSERT INTO invoices (tenant_id, project_id, amount_cents) SELECT tenant_id, id, 100 FROM projects`)
      // The control: the same rows behind a policy that casts the column,
      // which no index on tenant_id can serve.
      await admin.query(`CREATE TABLE projects_cast_policy (LIKE projects INCLUDING ALL)`)
      await admin.query(`INSERT INTO projects_cast_policy SELECT * FROM projects`)
      await admin.query(`ALTER TABLE projects_cast_policy ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY`)
      await admin.query(`CREATE POLICY cast_policy ON projects_cast_policy USING (tenant_id::text = (SELECT tenantscope.current_tenant()))`)
      await admin.query(`GRANT SELECT ON projects_cast_policy TO tenantscope_app`)
      // The other control: the shipped expression without its sub-select.
      for (const table of ['projects', 'invoices']) {
        await admin.query(`CREATE TABLE ${table}_bare_policy (LIKE ${table} INCLUDING ALL)`)
        await admin.query(`INSERT INTO ${table}_bare_policy SELECT * FROM ${table}`)
        await admin.query(`ALTER TABLE ${table}_bare_policy ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY`)
        await admin.query(
          `CREATE POLICY bare_policy ON ${table}_bare_policy USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)`,
        )
        await admin.query(`GRANT SELECT ON ${table}_bare_policy TO tenantscope_app`)
      }
      await admin.query('VACUUM ANALYZE')
      const { rows } = await admin.query<{ tenant_id: string; id: string }>('SELECT tenant_id, id FROM projects ORDER BY random() LIMIT 1')
      tenant = rows[0]!.tenant_id
      project = rows[0]!.id
    })
    pool = createTenantPool({ connectionString: db.appUrl, max: 2 })
  })

  afterAll(async () => {
    await pool?.end()
    await db?.drop()
  })

  // `text` may start with EXPLAIN options: `(ANALYZE, VERBOSE) SELECT ...`.
  const explain = (text: string, values: unknown[] = []) =>
    withTenant(tenant, async () => {
      const options = /^\((\w+(?:, \w+)*)\) /.exec(text)
      const statement = options ? text.slice(options[0].length) : text
      const format = options ? `(${options[1]}, FORMAT JSON)` : '(FORMAT JSON)'
      const { rows } = await pool.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN ${format} ${statement}`, values)
      return rows[0]!['QUERY PLAN'][0]!.Plan
    })

  test.each([
    ['point read by key', 'SELECT id, name FROM projects WHERE id = $1', 'projects', true],
    ['top-10 recent rows', 'SELECT id, name, created_at FROM projects ORDER BY created_at DESC LIMIT 10', 'projects', false],
    ['count of the tenant', 'SELECT count(*) FROM projects', 'projects', false],
    [
      'join of two tenant tables',
      'SELECT p.name, i.amount_cents FROM projects p JOIN invoices i ON i.project_id = p.id WHERE p.id = $1',
      'projects',
      true,
    ],
    ['update by key', `UPDATE projects SET name = 'x' WHERE id = $1`, 'projects', true],
    ['delete by key', 'DELETE FROM invoices WHERE project_id = $1', 'invoices', true],
  ] as const)('%s: Index Scan with Index Cond on tenant_id = the InitPlan, no Seq Scan', async (_, text, table, withProject) => {
    const plan = await explain(text, withProject ? [project] : [])
    const all = nodes(plan)
    expect(all.map((node) => node['Node Type'])).not.toContain('Seq Scan')
    const params = initPlanParams(plan)
    expect(params.length).toBeGreaterThan(0)
    const scans = all.filter((node) => node['Relation Name'] === table && /^(Index|Index Only) Scan$/.test(node['Node Type']))
    expect(scans.length).toBeGreaterThan(0)
    for (const scan of scans) {
      const cond = scan['Index Cond'] ?? ''
      expect(params.some((param) => cond.includes(`tenant_id = ${param}`))).toBe(true)
    }
  })

  // Where the setting is read, from EXPLAIN ANALYZE: [node type, loops] of each node whose condition or output calls it.
  const settingReads = (plan: PlanNode) =>
    nodes(plan)
      .filter((node) => /current_setting\(/.test(`${node['Index Cond'] ?? ''} ${(node.Output ?? []).join(' ')}`))
      .map((node) => [node['Parent Relationship'] === 'InitPlan' ? 'InitPlan' : node['Node Type'], node['Actual Loops']])
  const join = (suffix: string) =>
    `SELECT p.id, i.amount_cents FROM (SELECT id FROM projects${suffix} ORDER BY created_at DESC LIMIT 20) p
       JOIN invoices${suffix} i ON i.project_id = p.id`

  test('a nested loop over two tenant tables reads the setting once per table, not once per outer row', async () => {
    const plan = await explain(`(ANALYZE, VERBOSE) ${join('')}`)
    const inner = nodes(plan).find((node) => node['Relation Name'] === 'invoices')!
    expect(nodes(plan).map((node) => node['Node Type'])).toContain('Nested Loop')
    expect(inner['Actual Loops']).toBe(20)
    expect(settingReads(plan)).toEqual([
      ['InitPlan', 1],
      ['InitPlan', 1],
    ])
  })

  test('the control: without the sub-select the inner index scan reads the setting on each of its 20 loops', async () => {
    const plan = await explain(`(ANALYZE, VERBOSE) ${join('_bare_policy')}`)
    expect(settingReads(plan)).toContainEqual(['Index Scan', 20])
  })

  test('the data is large enough: a policy that casts the column gets a Seq Scan', async () => {
    const plan = await explain('SELECT id, name FROM projects_cast_policy WHERE name = $1', ['project 1'])
    expect(nodes(plan).map((node) => node['Node Type'])).toContain('Seq Scan')
  })
})
