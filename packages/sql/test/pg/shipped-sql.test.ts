import { randomUUID } from 'node:crypto'
import { createTenantPool, withTenant } from '@tenantscope/core'
import { applyMigrations, exampleMigrations, migrations, tenantExpression } from '@tenantscope/sql'
import { createTestDatabase, type TestDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

// The template database already ran every migration once; the tests below
// run them again (idempotence) and check behaviour, never SQL text.
describe('shipped SQL on a real database', () => {
  let db: TestDatabase
  let admin: pg.Pool
  let app: pg.Pool
  const A = randomUUID()
  const B = randomUUID()

  beforeAll(async () => {
    db = await createTestDatabase()
    admin = new pg.Pool({ connectionString: db.adminUrl, max: 1 })
    app = new pg.Pool({ connectionString: db.appUrl, max: 1 })
    await admin.query(`INSERT INTO tenants (id, name) VALUES ($1, 'A'), ($2, 'B')`, [A, B])
  })
  afterAll(async () => {
    await app?.end()
    await admin?.end()
    await db?.drop()
  })

  const scoped = (tenant: string | null, sql: string, values: unknown[] = []) =>
    app.query(`SELECT set_config('app.current_tenant', $1, false)`, [tenant ?? '']).then(() => app.query(sql, values))

  test('running every migration a second time changes nothing and fails nothing', async () => {
    const catalog = () =>
      admin.query(`SELECT polrelid::regclass::text AS tbl, polname, pg_get_expr(polqual, polrelid) AS qual FROM pg_policy ORDER BY 1, 2`)
    const before = (await catalog()).rows
    await applyMigrations(admin, [...migrations, ...exampleMigrations])
    expect((await catalog()).rows).toEqual(before)
    expect(before.length).toBe(4)
  })

  test('current_tenant_id() is NULL when unset and after a transaction reset it to an empty string', async () => {
    const client = await app.connect()
    try {
      expect((await client.query('SELECT tenantscope.current_tenant_id() AS t')).rows[0].t).toBeNull()
      await client.query('BEGIN')
      await client.query(`SELECT set_config('app.current_tenant', $1, true)`, [A])
      expect((await client.query('SELECT tenantscope.current_tenant_id() AS t')).rows[0].t).toBe(A)
      await client.query('COMMIT')
      expect((await client.query(`SELECT current_setting('app.current_tenant', true) AS raw`)).rows[0].raw).toBe('')
      expect((await client.query('SELECT tenantscope.current_tenant_id() AS t')).rows[0].t).toBeNull()
    } finally {
      client.release()
    }
  })

  test('policies filter rows; no tenant means no rows and no writes', async () => {
    await admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'a'), ($2, 'b')`, [A, B])
    expect((await scoped(A, 'SELECT tenant_id FROM projects')).rows).toEqual([{ tenant_id: A }])
    expect((await scoped(null, 'SELECT tenant_id FROM projects')).rows).toEqual([])
    await expect(scoped(null, `INSERT INTO projects (tenant_id, name) VALUES ($1, 'x')`, [A])).rejects.toMatchObject({ code: '42501' })
  })

  test('the column default fills tenant_id from the setting', async () => {
    const { rows } = await scoped(B, `INSERT INTO projects (name) VALUES ('defaulted') RETURNING tenant_id`)
    expect(rows).toEqual([{ tenant_id: B }])
  })

  test('FORCE: even the table owner is subject to the policy', async () => {
    await admin.query(`
      CREATE ROLE tenantscope_sql_test_owner_${process.pid} NOLOGIN;
      CREATE TABLE owned (tenant_id uuid NOT NULL, v int);
      SELECT tenantscope.enable_tenant_rls('owned');
      INSERT INTO owned VALUES ('${A}', 1), ('${B}', 2);
      ALTER TABLE owned OWNER TO tenantscope_sql_test_owner_${process.pid};`)
    const client = await admin.connect()
    try {
      await client.query('BEGIN')
      await client.query(`SET LOCAL ROLE tenantscope_sql_test_owner_${process.pid}`)
      await client.query(`SELECT set_config('app.current_tenant', $1, true)`, [A])
      expect((await client.query('SELECT v FROM owned')).rows).toEqual([{ v: 1 }])
      await client.query('ROLLBACK')
    } finally {
      client.release()
      await admin.query(`DROP TABLE owned; DROP ROLE tenantscope_sql_test_owner_${process.pid}`)
    }
  })

  test('enable_tenant_rls adds a tenant-first index only when none exists, and is idempotent', async () => {
    await admin.query(
      `CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant_id uuid NOT NULL, at timestamptz DEFAULT now())`,
    )
    const indexes = async () =>
      (await admin.query(`SELECT indexdef FROM pg_indexes WHERE tablename = 'events' ORDER BY indexname`)).rows.map((r) => r.indexdef)
    await admin.query(`SELECT tenantscope.enable_tenant_rls('events')`)
    await admin.query(`SELECT tenantscope.enable_tenant_rls('events')`)
    const after = await indexes()
    expect(after.filter((d: string) => d.includes('(tenant_id)'))).toHaveLength(1)
    await expect(admin.query(`SELECT tenantscope.enable_tenant_rls('events', 'nope')`)).rejects.toMatchObject({ code: '42703' })
  })

  test('the audit finds a tenant table left without FORCE, without policy, without index, and a bypassing login role', async () => {
    await admin.query(`
      CREATE TABLE leaky (tenant_id uuid NOT NULL, v int);
      ALTER TABLE leaky ENABLE ROW LEVEL SECURITY;`)
    const { rows } = await admin.query(`SELECT object_name, problem FROM tenantscope.audit() WHERE object_type = 'table'`)
    expect(rows).toEqual(
      expect.arrayContaining([
        { object_name: 'public.leaky', problem: 'rls_not_forced' },
        { object_name: 'public.leaky', problem: 'no_policy' },
        { object_name: 'public.leaky', problem: 'no_tenant_first_index' },
      ]),
    )
    // The example schema itself is clean.
    expect(rows.filter((r) => ['public.tenants', 'public.users', 'public.projects', 'public.invoices'].includes(r.object_name))).toEqual([])
    const roles = await admin.query(`SELECT object_name, detail FROM tenantscope.rls_audit WHERE problem = 'role_bypasses_rls'`)
    expect(roles.rows).toContainEqual({ object_name: 'tenantscope_test_maintenance', detail: 'BYPASSRLS' })
    expect(roles.rows.map((r) => r.object_name)).not.toContain('tenantscope_test_app')
    await admin.query('DROP TABLE leaky')
  })

  test('composite keys refuse a row that points at another tenant', async () => {
    const pool = createTenantPool({ connectionString: db.appUrl, max: 1 })
    try {
      const projectOfB = (await admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'b-only') RETURNING id`, [B])).rows[0].id
      await expect(
        withTenant(A, () => pool.query(`INSERT INTO invoices (project_id, amount_cents) VALUES ($1, 100)`, [projectOfB])),
      ).rejects.toMatchObject({ code: '23503' })
    } finally {
      await pool.end()
    }
  })

  test('the app role cannot change policies or switch RLS off', async () => {
    await expect(app.query(`ALTER TABLE projects DISABLE ROW LEVEL SECURITY`)).rejects.toMatchObject({ code: '42501' })
    await expect(app.query(`SELECT tenantscope.enable_tenant_rls('projects')`)).rejects.toMatchObject({ code: '42501' })
  })
})

// Issue 13: the SQL helper and the JS builder are two spellings of one expression; a custom setting works.
describe('tenantscope.tenant_expression and enable_tenant_rls take the setting', () => {
  let db: TestDatabase
  let admin: pg.Pool
  beforeAll(async () => {
    db = await createTestDatabase()
    admin = new pg.Pool({ connectionString: db.adminUrl, max: 1 })
  })
  afterAll(async () => {
    await admin?.end()
    await db?.drop()
  })

  test.each(['uuid', 'bigint', 'text'])(
    '%s: the SQL function writes what tenantExpression() writes, for any setting',
    async (columnType) => {
      for (const setting of ['app.current_tenant', 'myapp.tenant']) {
        const { rows } = await admin.query('SELECT tenantscope.tenant_expression($1::regtype, $2) AS expr', [columnType, setting])
        expect(rows[0].expr).toBe(tenantExpression({ setting, columnType }))
      }
      const { rows } = await admin.query('SELECT tenantscope.tenant_expression($1::regtype) AS expr', [columnType])
      expect(rows[0].expr).toBe(tenantExpression({ columnType }))
    },
  )

  test('enable_tenant_rls(table, column, setting): policy and default read the setting; a re-run with another setting converges', async () => {
    const catalog = async () =>
      (
        await admin.query(`SELECT (SELECT pg_get_expr(polqual, polrelid) FROM pg_policy WHERE polrelid = 'custom_notes'::regclass) AS qual,
                                  (SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'custom_notes'::regclass) AS def`)
      ).rows[0]
    await admin.query(`CREATE TABLE custom_notes (tenant_id uuid NOT NULL, body text)`)
    await admin.query(`SELECT tenantscope.enable_tenant_rls('custom_notes')`)
    expect(JSON.stringify(await catalog())).toContain("'app.current_tenant'")
    await admin.query(`SELECT tenantscope.enable_tenant_rls('custom_notes', 'tenant_id', 'myapp.tenant')`)
    const custom = await catalog()
    expect(custom.qual).toContain("current_setting('myapp.tenant'::text, true)")
    expect(custom.def).toContain("current_setting('myapp.tenant'::text, true)")
    expect(JSON.stringify(custom)).not.toContain('app.current_tenant')
    const refused = await admin
      .query(`SELECT tenantscope.enable_tenant_rls('custom_notes', 'tenant_id', $1)`, ["x'; DROP TABLE custom_notes; --"])
      .catch((error: { code?: string }) => error)
    expect((refused as { code?: string }).code).toBe('22023')
    expect(await catalog()).toEqual(custom)
  })
})
