// The schema helpers' SQL and tenantscope.enable_tenant_rls must leave the
// same policy and default in the catalog, for every tenant column type the
// helpers handle (drizzle-kit.test.ts checks the uuid example schema end to end).
import { tenantCondition, tenantIdColumn } from '@tenantscope/drizzle'
import { createTestDatabase, type TestDatabase, withClient } from '@tenantscope/test-harness'
import { bigint, getTableConfig, type PgColumn, PgDialect, pgTable, text } from 'drizzle-orm/pg-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

const dialect = new PgDialect()

const CATALOG = `
  SELECT (SELECT json_build_object('qual', pg_get_expr(polqual, polrelid), 'check', pg_get_expr(polwithcheck, polrelid))
            FROM pg_policy WHERE polrelid = $1::regclass) AS policy,
         (SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
           WHERE d.adrelid = $1::regclass AND a.attname = 'tenant_id') AS tenant_default`

describe('schema helpers = enable_tenant_rls, in the catalog', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase()
  })
  afterAll(async () => {
    await db?.drop()
  })

  // [the column's SQL type, the column declared with Drizzle in a table of the given name]
  const columns: [string, (table: string) => PgColumn][] = [
    ['uuid', (name) => getTableConfig(pgTable(name, { tenantId: tenantIdColumn() })).columns[0]!],
    ['text', (name) => getTableConfig(pgTable(name, { tenantId: text('tenant_id').notNull() })).columns[0]!],
    ['bigint', (name) => getTableConfig(pgTable(name, { tenantId: bigint('tenant_id', { mode: 'bigint' }).notNull() })).columns[0]!],
  ]

  test.each(columns)('a %s tenant column', async (type, column) => {
    const [viaSql, viaDrizzle] = [`via_sql_${type}`, `via_drizzle_${type}`]
    const drizzleColumn = column(viaDrizzle)
    const condition = dialect.sqlToQuery(tenantCondition(drizzleColumn)).sql
    // Only the uuid column has a helper with a default (tenantIdColumn).
    const withDefault = drizzleColumn.default !== undefined
    const defaultSql = withDefault ? ` DEFAULT ${dialect.sqlToQuery(drizzleColumn.default as never).sql}` : ''
    await withClient(db.adminUrl, async (admin) => {
      await admin.query(`
        CREATE TABLE ${viaSql} (tenant_id ${type} NOT NULL);
        SELECT tenantscope.enable_tenant_rls('${viaSql}');
        CREATE TABLE ${viaDrizzle} (tenant_id ${type} NOT NULL${defaultSql});
        ALTER TABLE ${viaDrizzle} ENABLE ROW LEVEL SECURITY;
        CREATE POLICY tenantscope_isolation ON ${viaDrizzle} AS PERMISSIVE FOR ALL TO public USING (${condition}) WITH CHECK (${condition});`)
      const [fromSql, fromDrizzle] = [(await admin.query(CATALOG, [viaSql])).rows[0], (await admin.query(CATALOG, [viaDrizzle])).rows[0]]
      expect(fromDrizzle.policy).toEqual(fromSql.policy)
      if (withDefault) expect(fromDrizzle.tenant_default).toBe(fromSql.tenant_default)
      expect(JSON.stringify(fromSql)).toContain(`current_setting('app.current_tenant'::text, true)`)
      expect(JSON.stringify(fromSql)).not.toContain('tenantscope.')
    })
  })

  // Issue 13: the setting is not hard-coded. The same catalog again, for a custom setting on both paths.
  test('a custom setting: tenantIdColumn and tenantCondition with { setting } = enable_tenant_rls(table, column, setting)', async () => {
    const setting = 'myapp.tenant'
    const drizzleColumn = getTableConfig(pgTable('via_drizzle_custom', { tenantId: tenantIdColumn('tenant_id', { setting }) })).columns[0]!
    const condition = dialect.sqlToQuery(tenantCondition(drizzleColumn, { setting })).sql
    const defaultSql = dialect.sqlToQuery(drizzleColumn.default as never).sql
    await withClient(db.adminUrl, async (admin) => {
      await admin.query(`
        CREATE TABLE via_sql_custom (tenant_id uuid NOT NULL);
        SELECT tenantscope.enable_tenant_rls('via_sql_custom', 'tenant_id', '${setting}');
        CREATE TABLE via_drizzle_custom (tenant_id uuid NOT NULL DEFAULT ${defaultSql});
        ALTER TABLE via_drizzle_custom ENABLE ROW LEVEL SECURITY;
        CREATE POLICY tenantscope_isolation ON via_drizzle_custom AS PERMISSIVE FOR ALL TO public USING (${condition}) WITH CHECK (${condition});`)
      const [fromSql, fromDrizzle] = [
        (await admin.query(CATALOG, ['via_sql_custom'])).rows[0],
        (await admin.query(CATALOG, ['via_drizzle_custom'])).rows[0],
      ]
      expect(fromDrizzle).toEqual(fromSql)
      expect(JSON.stringify(fromSql)).toContain(`current_setting('myapp.tenant'::text, true)`)
      expect(JSON.stringify(fromSql)).not.toContain('app.current_tenant')
    })
  })

  test('a setting name that is not a dotted identifier is refused when the schema is defined (INVALID_CONFIG)', () => {
    const column = getTableConfig(pgTable('t', { tenantId: tenantIdColumn() })).columns[0]!
    for (const setting of ["x'); DROP TABLE t; --", 'nodot', '']) {
      expect(() => tenantCondition(column, { setting })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
      expect(() => tenantIdColumn('tenant_id', { setting })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
    }
  })
})
