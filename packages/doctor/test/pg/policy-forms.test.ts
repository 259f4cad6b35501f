// enable_tenant_rls now writes the tenant setting out in its policy instead of
// calling tenantscope.current_tenant_id(); databases migrated earlier keep the
// helper form. The doctor must judge both spellings alike: each case below is
// one policy written both ways, and both must give the same findings.

import { runDoctor } from '@tenantscope/doctor'
import { createTestDatabase, type TestDatabase, withClient } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

const S = "NULLIF(current_setting('app.current_tenant', true), '')"

interface Form {
  using: string
  check: string
}
interface Case {
  name: string
  type: string
  helper: Form
  inline: Form
  expected: string[]
}

const same = (expression: string): Form => ({ using: expression, check: expression })
// A correct WITH CHECK next to a USING that is not: the USING is judged on its own.
const usingOnly = (using: string, check: string): Form => ({ using, check })

const cases: Case[] = [
  {
    name: 'uuid',
    type: 'uuid',
    helper: same('tenant_id = (SELECT tenantscope.current_tenant_id())'),
    inline: same(`tenant_id = (SELECT ${S}::uuid)`),
    expected: [],
  },
  {
    name: 'text',
    type: 'text',
    helper: same('tenant_id = (SELECT tenantscope.current_tenant()::text)'),
    inline: same(`tenant_id = (SELECT ${S})`),
    expected: [],
  },
  {
    name: 'bigint',
    type: 'bigint',
    helper: same('tenant_id = (SELECT tenantscope.current_tenant()::bigint)'),
    inline: same(`tenant_id = (SELECT ${S}::bigint)`),
    expected: [],
  },
  {
    name: 'and_more',
    type: 'uuid',
    helper: same('(SELECT tenantscope.current_tenant_id()) = tenant_id AND id > 0'),
    inline: same(`(SELECT ${S}::uuid) = tenant_id AND id > 0`),
    expected: [],
  },
  // The helper form of a wrong setting name is a helper of the user's that reads it.
  {
    name: 'wrong_setting',
    type: 'uuid',
    helper: same('tenant_id = (SELECT pf_wrong_tenant())'),
    inline: same(`tenant_id = (SELECT NULLIF(current_setting('app.tenant', true), '')::uuid)`),
    expected: ['policy_bypass_setting'],
  },
  {
    name: 'cast_column',
    type: 'uuid',
    helper: same('tenant_id::text = (SELECT tenantscope.current_tenant())'),
    inline: same(`tenant_id::text = (SELECT ${S})`),
    expected: ['policy_casts_tenant_column'],
  },
  // Without the sub-select the (stable) setting is still an index condition, so
  // the doctor accepts it in either spelling; only the InitPlan is lost.
  {
    name: 'no_subselect',
    type: 'uuid',
    helper: same('tenant_id = tenantscope.current_tenant_id()'),
    inline: same(`tenant_id = ${S}::uuid`),
    // Correct, but read once per row: the sub-select makes it once per statement.
    expected: ['policy_function_per_row'],
  },
  {
    name: 'or_true',
    type: 'uuid',
    helper: usingOnly(
      'tenant_id = (SELECT tenantscope.current_tenant_id()) OR true',
      'tenant_id = (SELECT tenantscope.current_tenant_id())',
    ),
    inline: usingOnly(`tenant_id = (SELECT ${S}::uuid) OR true`, `tenant_id = (SELECT ${S}::uuid)`),
    expected: ['policy_unrecognized'],
  },
  {
    name: 'is_not_null',
    type: 'uuid',
    helper: usingOnly('tenantscope.current_tenant_id() IS NOT NULL', 'tenant_id = (SELECT tenantscope.current_tenant_id())'),
    inline: usingOnly(`${S}::uuid IS NOT NULL`, `tenant_id = (SELECT ${S}::uuid)`),
    expected: ['policy_unrecognized'],
  },
  {
    name: 'not_equal',
    type: 'uuid',
    helper: usingOnly('tenant_id <> (SELECT tenantscope.current_tenant_id())', 'tenant_id = (SELECT tenantscope.current_tenant_id())'),
    inline: usingOnly(`tenant_id <> (SELECT ${S}::uuid)`, `tenant_id = (SELECT ${S}::uuid)`),
    expected: ['policy_unrecognized'],
  },
  {
    name: 'coalesce',
    type: 'uuid',
    helper: usingOnly(
      'tenant_id = coalesce((SELECT tenantscope.current_tenant_id()), tenant_id)',
      'tenant_id = (SELECT tenantscope.current_tenant_id())',
    ),
    inline: usingOnly(`tenant_id = coalesce((SELECT ${S}::uuid), tenant_id)`, `tenant_id = (SELECT ${S}::uuid)`),
    expected: ['policy_unrecognized'],
  },
]

describe('the doctor judges the inline policy as it judges the helper policy', () => {
  let db: TestDatabase
  let pool: pg.Pool

  beforeAll(async () => {
    db = await createTestDatabase()
    pool = new pg.Pool({ connectionString: db.adminUrl, max: 1 })
    const statements = [
      `CREATE FUNCTION pf_wrong_tenant() RETURNS uuid LANGUAGE sql STABLE AS $$ SELECT NULLIF(current_setting('app.tenant', true), '')::uuid $$`,
    ]
    for (const { name, type, helper, inline } of cases) {
      for (const [form, { using, check }] of [
        ['helper', helper],
        ['inline', inline],
      ] as const) {
        const table = `pf_${name}_${form}`
        statements.push(
          `CREATE TABLE ${table} (tenant_id ${type} NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id))`,
          `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY`,
          `CREATE POLICY ${table}_all ON ${table} FOR ALL USING (${using}) WITH CHECK (${check})`,
          `GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO tenantscope_test_app`,
        )
      }
    }
    await withClient(db.adminUrl, (admin) => admin.query(statements.join(';\n')))
  })
  afterAll(async () => {
    await pool?.end()
    await db?.drop()
  })

  const codes = async (table: string) =>
    (await runDoctor(pool, { role: 'tenantscope_test_app', tables: [table] })).findings.map((finding) => finding.code).sort()

  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_, { name, expected }) => {
    const helper = await codes(`pf_${name}_helper`)
    const inline = await codes(`pf_${name}_inline`)
    expect(helper).toEqual(expected)
    expect(inline).toEqual(helper)
  })

  test('the fix for a table without RLS is the policy enable_tenant_rls creates, for uuid, text and bigint columns', async () => {
    const catalog = `SELECT pg_get_expr(polqual, polrelid) AS qual, pg_get_expr(polwithcheck, polrelid) AS with_check FROM pg_policy WHERE polrelid = $1::regclass`
    for (const type of ['uuid', 'text', 'bigint']) {
      await pool.query(`CREATE TABLE fix_${type} (tenant_id ${type} NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id));
                        CREATE TABLE enabled_${type} (tenant_id ${type} NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id));
                        SELECT tenantscope.enable_tenant_rls('enabled_${type}');
                        GRANT SELECT, INSERT, UPDATE, DELETE ON fix_${type} TO tenantscope_test_app`)
      const [finding] = (await runDoctor(pool, { role: 'tenantscope_test_app', tables: [`fix_${type}`] })).findings
      expect(finding?.code).toBe('rls_disabled')
      await pool.query(finding!.fix!)
      expect((await pool.query(catalog, [`fix_${type}`])).rows).toEqual((await pool.query(catalog, [`enabled_${type}`])).rows)
      expect(await codes(`fix_${type}`)).toEqual([])
    }
  })
})
