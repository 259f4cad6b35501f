import { randomUUID } from 'node:crypto'
import { applyMigrations, exampleMigrations, migrations } from '@tenantscope/sql'
import { createTestDatabase, type TestDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

// enable_tenant_rls writes the tenant expression out in its policy and column
// default instead of calling tenantscope's LANGUAGE sql helpers (the planner
// re-parses a helper's body on every inlining). What pg_get_expr prints:
const SETTING = `NULLIF(current_setting('app.current_tenant'::text, true), ''::text)`
const inlinePolicy = (column: string, cast: string) =>
  cast === '' ? `(${column} = ( SELECT ${SETTING} AS "nullif"))` : `(${column} = ( SELECT (${SETTING})::${cast} AS "nullif"))`
const inlineDefault = (cast: string) => (cast === '' ? SETTING : `(${SETTING})::${cast}`)

// What enable_tenant_rls created before the change: the helper in a sub-select, the helper as default.
const OLD = {
  uuid: 'tenantscope.current_tenant_id()',
  text: 'tenantscope.current_tenant()::text',
  bigint: 'tenantscope.current_tenant()::bigint',
  'character varying': 'tenantscope.current_tenant()::character varying',
} as const
type ColumnType = keyof typeof OLD
// varchar has no = of its own: PostgreSQL compares as text on both sides, as it did before.
const CAST = { uuid: 'uuid', text: '', bigint: 'bigint' } as const
const tableName = (prefix: string, type: ColumnType) => `${prefix}_${type.replace(' ', '_')}`

describe('enable_tenant_rls inlines the tenant expression', () => {
  let db: TestDatabase
  let admin: pg.Pool
  let app: pg.Pool
  const A = randomUUID()

  beforeAll(async () => {
    db = await createTestDatabase()
    admin = new pg.Pool({ connectionString: db.adminUrl, max: 1 })
    app = new pg.Pool({ connectionString: db.appUrl, max: 1 })
  })
  afterAll(async () => {
    await app?.end()
    await admin?.end()
    await db?.drop()
  })

  const catalog = async (table: string) => {
    const { rows } = await admin.query(
      `SELECT (SELECT pg_get_expr(polqual, polrelid) FROM pg_policy WHERE polrelid = $1::regclass AND polname = 'tenantscope_isolation') AS qual,
              (SELECT pg_get_expr(polwithcheck, polrelid) FROM pg_policy WHERE polrelid = $1::regclass AND polname = 'tenantscope_isolation') AS with_check,
              (SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
                WHERE d.adrelid = $1::regclass AND a.attname = 'tenant_id') AS tenant_default`,
      [table],
    )
    return rows[0] as { qual: string | null; with_check: string | null; tenant_default: string | null }
  }

  test('the example schema: policy and default read the setting, no helper call', async () => {
    for (const table of ['users', 'projects', 'invoices']) {
      expect(await catalog(table)).toEqual({
        qual: inlinePolicy('tenant_id', 'uuid'),
        with_check: inlinePolicy('tenant_id', 'uuid'),
        tenant_default: inlineDefault('uuid'),
      })
    }
  })

  test.each(Object.keys(CAST) as (keyof typeof CAST)[])(
    'a %s column: cast only when the type is not text; the policy and the default work',
    async (type) => {
      const table = tableName('fresh', type)
      const value = type === 'uuid' ? A : type === 'bigint' ? '42' : 'acme'
      await admin.query(`CREATE TABLE ${table} (tenant_id ${type} NOT NULL, v int); SELECT tenantscope.enable_tenant_rls('${table}');
                       GRANT SELECT, INSERT ON ${table} TO tenantscope_test_app`)
      expect(await catalog(table)).toEqual({
        qual: inlinePolicy('tenant_id', CAST[type]),
        with_check: inlinePolicy('tenant_id', CAST[type]),
        tenant_default: inlineDefault(CAST[type]),
      })
      const client = await app.connect()
      try {
        await client.query('BEGIN')
        await client.query(`SELECT set_config('app.current_tenant', $1, true)`, [value])
        const inserted = await client.query(`INSERT INTO ${table} (v) VALUES (1) RETURNING tenant_id::text AS t`)
        expect(inserted.rows).toEqual([{ t: value }])
        expect((await client.query(`SELECT count(*)::int AS n FROM ${table}`)).rows).toEqual([{ n: 1 }])
        await client.query('COMMIT')
        // The setting now reads '' (not NULL): NULLIF keeps the cast from failing; no rows, and the
        // NULL default fails the WITH CHECK.
        expect((await client.query(`SELECT count(*)::int AS n FROM ${table}`)).rows).toEqual([{ n: 0 }])
        await expect(client.query(`INSERT INTO ${table} (v) VALUES (2)`)).rejects.toMatchObject({ code: '42501' })
      } finally {
        client.release()
      }
    },
  )

  test('a re-run converges the old helper policy and default to what a fresh table gets, whatever the search_path; other defaults stay', async () => {
    const types = Object.keys(OLD) as ColumnType[]
    for (const type of types) {
      const table = tableName('old', type)
      const expression = OLD[type]
      await admin.query(
        `CREATE TABLE ${tableName('new', type)} (tenant_id ${type} NOT NULL, v int); SELECT tenantscope.enable_tenant_rls('${tableName('new', type)}')`,
      )
      // Exactly what the previous enable_tenant_rls left behind.
      await admin.query(`
        CREATE TABLE ${table} (tenant_id ${type} NOT NULL DEFAULT ${expression}, v int);
        ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
        CREATE POLICY tenantscope_isolation ON ${table} AS PERMISSIVE FOR ALL
          USING (tenant_id = (SELECT ${expression})) WITH CHECK (tenant_id = (SELECT ${expression}));
        CREATE INDEX ON ${table} (tenant_id);`)
      expect((await catalog(table)).qual).toContain('tenantscope.current_tenant')
    }
    // A default of the user's, and one that calls a helper but not as tenantscope did for the
    // column's type (current_tenant_id() on a text column, implicitly cast): both theirs.
    await admin.query(`
      CREATE TABLE own_default (tenant_id uuid NOT NULL DEFAULT '00000000-0000-0000-0000-000000000001', v int);
      CREATE TABLE own_helper_default (tenant_id text NOT NULL DEFAULT tenantscope.current_tenant_id(), v int);`)
    const ownHelperDefault = (await catalog('own_helper_default')).tenant_default
    expect(ownHelperDefault).toContain('tenantscope.current_tenant_id()')

    const client = await admin.connect()
    try {
      // With tenantscope on the path pg_get_expr would print current_tenant_id() unqualified.
      await client.query('SET search_path = public, tenantscope')
      await applyMigrations(client, [...migrations, ...exampleMigrations])
      for (const type of types) await client.query(`SELECT tenantscope.enable_tenant_rls('${tableName('old', type)}')`)
      await client.query(`SELECT tenantscope.enable_tenant_rls('own_default'), tenantscope.enable_tenant_rls('own_helper_default')`)
      expect((await client.query('SHOW search_path')).rows[0].search_path).toBe('public, tenantscope')
    } finally {
      await client.query('RESET search_path')
      client.release()
    }

    for (const type of types) {
      const converged = await catalog(tableName('old', type))
      expect(converged).toEqual(await catalog(tableName('new', type)))
      expect(JSON.stringify(converged)).not.toContain('tenantscope.')
    }
    expect((await catalog('old_bigint')).qual).toBe(inlinePolicy('tenant_id', 'bigint'))
    expect((await catalog('own_default')).tenant_default).toBe(`'00000000-0000-0000-0000-000000000001'::uuid`)
    expect((await catalog('own_default')).qual).toBe(inlinePolicy('tenant_id', 'uuid'))
    expect((await catalog('own_helper_default')).tenant_default).toBe(ownHelperDefault)
    // The example schema, applied again above, agrees.
    expect(await catalog('projects')).toEqual(await catalog('old_uuid'))
  })

  test("the helpers stay, for users' own policies", async () => {
    const { rows } = await app.query(`SELECT tenantscope.current_tenant_id() AS id, tenantscope.current_tenant() AS t`)
    expect(rows).toEqual([{ id: null, t: null }])
  })
})
