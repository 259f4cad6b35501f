import { readFile } from 'node:fs/promises'
import { createTenantPool, type TenantPool } from '@tenantscope/core'
import { createTestDatabase, type TestDatabase, withClient } from '@tenantscope/test-harness'
import { assertTenantIsolation, checkTenantIsolation, TenantIsolationError, type TenantIsolationReport } from '@tenantscope/testing'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

// What failed, as "object check[:finding]" lines, sorted.
const summary = (report: TenantIsolationReport) =>
  report.failures.map((failure) => `${failure.table} ${failure.check}${failure.finding ? `:${failure.finding.code}` : ''}`).sort()

const EVERYTHING_LEAKS = [
  'cross_tenant_read',
  'cross_tenant_update',
  'cross_tenant_move',
  'cross_tenant_delete',
  'cross_tenant_insert',
  'no_context_read',
  'no_context_write',
]

describe('deliberately broken schemas: each failure is reported', () => {
  let db: TestDatabase
  let pool: TenantPool
  let adminPool: pg.Pool

  beforeAll(async () => {
    db = await createTestDatabase()
    const fixture = await readFile(new URL('./fixtures/broken.sql', import.meta.url), 'utf8')
    await withClient(db.adminUrl, (admin) => admin.query(fixture))
    pool = createTenantPool({ connectionString: db.appUrl, max: 2 })
    adminPool = new pg.Pool({ connectionString: db.adminUrl, max: 2 })
  })
  afterAll(async () => {
    await pool.end()
    await adminPool.end()
    await db.drop()
  })

  test.each([
    ['b_rls_off', [...EVERYTHING_LEAKS, 'catalog:rls_disabled']],
    ['b_not_forced', ['catalog:rls_not_forced']],
    ['b_app_owned', [...EVERYTHING_LEAKS, 'catalog:rls_not_forced']],
    ['b_no_with_check', ['cross_tenant_insert', 'no_context_write', 'catalog:policy_write_unchecked']],
    ['b_insert_unchecked', ['cross_tenant_insert', 'no_context_write', 'catalog:policy_write_unchecked']],
    ['b_cast', ['catalog:policy_casts_tenant_column']],
    // USING (true) also lets A take B's row over with UPDATE ... SET tenant_id = A (WITH CHECK passes): the
    // old WHERE ctid check could not see it.
    [
      'b_open_read',
      ['cross_tenant_read', 'cross_tenant_update', 'cross_tenant_delete', 'no_context_read', 'catalog:policy_not_tenant_scoped'],
    ],
    // Both also read the setting once per row (no sub-select): the doctor's warning comes with them.
    ['b_bypass', ['catalog:policy_bypass_setting', 'catalog:policy_function_per_row']],
    ['b_no_nullif', ['no_context_read', 'catalog:policy_setting_without_nullif', 'catalog:policy_function_per_row']],
    // UPDATE and DELETE are tried with no WHERE: a WHERE would add the (correct) SELECT policy and hide B's row.
    ['b_update_open', ['cross_tenant_update', 'catalog:policy_unrecognized']],
    ['b_delete_open', ['cross_tenant_delete', 'catalog:policy_unrecognized']],
    ['b_truncate', ['cross_tenant_truncate', 'catalog:app_role_can_truncate']],
    ['b_null_open', ['catalog:policy_unrecognized']],
  ])('%s', async (table, checks) => {
    const report = await checkTenantIsolation({ pool, adminPool, tables: [table] })
    expect(report.ok).toBe(false)
    expect(report.tables).toEqual([`public.${table}`])
    const roleFindings = table === 'b_app_owned' ? ['tenantscope_test_app catalog:app_role_owns_tenant_table'] : []
    expect(summary(report)).toEqual([...checks.map((check) => `public.${table} ${check}`), ...roleFindings].sort())
    for (const failure of report.failures) expect(failure.reason.length).toBeGreaterThan(20)
  })

  test('the application role owning a forced table: isolated today, reported anyway', async () => {
    const report = await checkTenantIsolation({ pool, adminPool, tables: ['b_app_owned_forced'] })
    expect(summary(report)).toEqual(['tenantscope_test_app catalog:app_role_owns_tenant_table'])
  })

  test('a partition without RLS under a partitioned table with RLS is reported', async () => {
    const report = await checkTenantIsolation({ pool, adminPool, tables: ['b_part'] })
    expect(report.tables).toEqual(['public.b_part'])
    // The app role may query the partition itself, where the parent's policies do not apply.
    expect(summary(report)).toEqual(['public.b_part_0 catalog:partition_readable_directly', 'public.b_part_0 catalog:rls_disabled'])
  })

  test('a table the role may write but not read is not tested, but the catalog checks cover it', async () => {
    const report = await checkTenantIsolation({ pool, adminPool })
    expect(report.tables).not.toContain('public.b_insert_only')
    expect(summary(report)).toContain('public.b_insert_only catalog:rls_disabled')
  })

  test('a view without security_invoker leaks the table it reads', async () => {
    const report = await checkTenantIsolation({ pool, adminPool, tables: ['users'] })
    expect(report.views).toEqual(['public.b_user_directory'])
    expect(summary(report)).toEqual([
      'public.b_user_directory catalog:view_without_security_invoker',
      'public.b_user_directory view_cross_tenant_read',
      'public.b_user_directory view_cross_tenant_read',
    ])
    expect(report.failures.map((failure) => failure.reason).join('\n')).toMatch(
      /tenant A sees 1 row\(s\) of other tenants through the view[\s\S]*with no tenant set, the view shows 2 tenant row\(s\)/,
    )
  })

  test('the reasons say what happened', async () => {
    const report = await checkTenantIsolation({ pool, adminPool, tables: ['b_rls_off', 'b_no_nullif'], catalog: false })
    const reasons = Object.fromEntries(report.failures.map((failure) => [`${failure.table} ${failure.check}`, failure.reason]))
    expect(reasons['public.b_rls_off cross_tenant_read']).toBe('tenant A sees 1 row(s) of other tenants')
    expect(reasons['public.b_rls_off cross_tenant_update']).toBe("tenant A updated tenant B's row")
    expect(reasons['public.b_rls_off cross_tenant_insert']).toMatch(/^tenant A inserted a row carrying tenant B's tenant_id/)
    expect(reasons['public.b_no_nullif no_context_read']).toMatch(
      /^with no tenant set, SELECT failed instead of returning no rows: invalid input syntax for type uuid/,
    )
  })

  test('catalog decides which doctor findings fail: a cast passes at error, and catalog: false skips them', async () => {
    expect((await checkTenantIsolation({ pool, adminPool, tables: ['b_cast'], catalog: 'error' })).ok).toBe(true)
    expect((await checkTenantIsolation({ pool, adminPool, tables: ['b_cast'], catalog: false })).ok).toBe(true)
    expect((await checkTenantIsolation({ pool, adminPool, tables: ['b_bypass'], catalog: false })).ok).toBe(true)
    expect((await checkTenantIsolation({ pool, adminPool, tables: ['b_bypass'], catalog: 'error' })).ok).toBe(false)
  })

  test('assertTenantIsolation throws one error listing every failing table with its reason', async () => {
    const error = await assertTenantIsolation({ pool, adminPool, tables: ['b_rls_off', 'b_open_read', 'b_cast'] }).then(
      () => undefined,
      (caught: unknown) => caught,
    )
    expect(TenantIsolationError.is(error, 'ISOLATION_FAILED')).toBe(true)
    const { message, report } = error as TenantIsolationError
    expect(message).toMatch(/^Tenant isolation failed for role tenantscope_test_app: 14 problems\n/)
    expect(message).toContain("  public.b_rls_off [cross_tenant_update] tenant A updated tenant B's row")
    expect(message).toContain('  public.b_open_read [cross_tenant_read] tenant A sees 1 row(s) of other tenants')
    expect(message).toContain('  public.b_cast [catalog: policy_casts_tenant_column] warning: The policy casts tenant_id')
    expect(report?.failures).toHaveLength(14)
  })

  test('a column type the kit cannot invent: a setup failure until a factory gives it', async () => {
    const without = await checkTenantIsolation({ pool, adminPool, tables: ['b_needs_factory'] })
    expect(summary(without)).toEqual(['public.b_needs_factory setup'])
    expect(without.failures[0]!.reason).toMatch(/cannot invent a value for column location \(point\): pass a factory/)
    const seen: string[] = []
    const withFactory = await checkTenantIsolation({
      pool,
      adminPool,
      tables: ['b_needs_factory'],
      factories: { 'public.b_needs_factory': ({ tenantId }) => (seen.push(tenantId), { location: '(1,2)' }) },
    })
    expect(withFactory.failures).toEqual([])
    expect(new Set(seen).size).toBe(2) // one per throwaway tenant
  })

  test('a factory naming a column that does not exist is reported', async () => {
    const report = await checkTenantIsolation({
      pool,
      adminPool,
      tables: ['users'],
      catalog: false,
      factories: { users: () => ({ nickname: 'x' }) },
    })
    expect(summary(report)).toContain('public.users setup')
    expect(report.failures.find((failure) => failure.check === 'setup')!.reason).toMatch(/the factory sets nickname, which is not a column/)
  })

  test('nothing is left behind, whatever failed', async () => {
    const count = async () =>
      (
        await adminPool.query(
          `SELECT (SELECT count(*) FROM tenants) + (SELECT count(*) FROM b_rls_off) + (SELECT count(*) FROM b_open_read) AS n`,
        )
      ).rows[0].n
    const before = await count()
    await checkTenantIsolation({ pool, adminPool, tables: ['b_rls_off', 'b_open_read'] })
    expect(await count()).toBe(before)
  })
})

describe('the kit refuses what would prove nothing', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase()
  })
  afterAll(async () => {
    await db.drop()
  })

  test.each([
    ['a superuser', 'adminUrl', /which is a superuser: row level security does not apply/],
    ['a BYPASSRLS role', 'maintenanceUrl', /which is BYPASSRLS: row level security does not apply/],
  ] as const)('a pool connected as %s is refused', async (_, url, message) => {
    const pool = createTenantPool({ connectionString: db[url], max: 1 })
    const adminPool = new pg.Pool({ connectionString: db.adminUrl, max: 1 })
    try {
      const error = await assertTenantIsolation({ pool, adminPool }).catch((caught: unknown) => caught)
      expect(TenantIsolationError.is(error, 'PRIVILEGED_ROLE')).toBe(true)
      expect((error as Error).message).toMatch(message)
    } finally {
      await pool.end()
      await adminPool.end()
    }
  })

  test('options that cannot work are refused with what to do', async () => {
    const pool = createTenantPool({ connectionString: db.appUrl, max: 1 })
    try {
      const noAdmin = await assertTenantIsolation({ pool }).catch((caught: unknown) => caught)
      expect(TenantIsolationError.is(noAdmin, 'INVALID_OPTIONS')).toBe(true)
      expect((noAdmin as Error).message).toMatch(
        /tenant_id references public\.tenants, where role tenantscope_test_app may not insert: pass adminPool/,
      )
      const unknown = await assertTenantIsolation({ pool, tables: ['nope'] }).catch((caught: unknown) => caught)
      expect((unknown as Error).message).toBe('nope is not a table with a tenant_id column')
      const column = await assertTenantIsolation({ pool, tenantColumn: 'org_id' }).catch((caught: unknown) => caught)
      expect((column as Error).message).toBe('No table has a column named org_id: pass tenantColumn')
    } finally {
      await pool.end()
    }
  })

  test('tenantIds of existing tenants need no adminPool', async () => {
    const pool = createTenantPool({ connectionString: db.appUrl, max: 1 })
    try {
      const { rows } = await withClient(db.adminUrl, (admin) => admin.query(`INSERT INTO tenants (name) VALUES ('a'), ('b') RETURNING id`))
      const report = await assertTenantIsolation({ pool, tenantIds: [rows[0].id, rows[1].id] })
      expect(report.tables).toEqual(['public.invoices', 'public.projects', 'public.users'])
      const left = await withClient(db.adminUrl, (admin) => admin.query(`SELECT count(*)::int AS n FROM users`))
      expect(left.rows[0].n).toBe(0)
    } finally {
      await pool.end()
    }
  })
})

describe('throwaway tenants: rows written for them by the database are cleaned up, or the failure is said', () => {
  let db: TestDatabase
  let pool: TenantPool
  let adminPool: pg.Pool
  const count = async () =>
    (await adminPool.query(`SELECT (SELECT count(*) FROM tenants)::int AS tenants, (SELECT count(*) FROM users)::int AS users`)).rows[0]

  beforeAll(async () => {
    db = await createTestDatabase()
    pool = createTenantPool({ connectionString: db.appUrl, max: 1 })
    adminPool = new pg.Pool({ connectionString: db.adminUrl, max: 2 })
  })
  afterAll(async () => {
    await pool.end()
    await adminPool.end()
    await db.drop()
  })

  test('an AFTER INSERT trigger on tenants that adds a user: nothing is left behind', async () => {
    await adminPool.query(`
      CREATE FUNCTION welcome_user() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO users (tenant_id, email, name) VALUES (NEW.id, 'admin@example.com', 'Admin');
        RETURN NEW;
      END $$;
      CREATE TRIGGER tenants_welcome AFTER INSERT ON tenants FOR EACH ROW EXECUTE FUNCTION welcome_user();`)
    const before = await count()
    const report = await checkTenantIsolation({ pool, adminPool })
    expect(report.failures).toEqual([])
    expect(await count()).toEqual(before)
  })

  test('when even that fails, checkTenantIsolation throws CLEANUP_FAILED instead of reporting success', async () => {
    // A row that references the tenant from a table the kit does not know (no tenant_id column).
    await adminPool.query(`
      CREATE TABLE tenant_notes (about uuid NOT NULL REFERENCES tenants (id), note text);
      CREATE FUNCTION note_tenant() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO tenant_notes (about, note) VALUES (NEW.id, 'created');
        RETURN NEW;
      END $$;
      CREATE TRIGGER tenants_note AFTER INSERT ON tenants FOR EACH ROW EXECUTE FUNCTION note_tenant();`)
    const error = await checkTenantIsolation({ pool, adminPool }).catch((caught: unknown) => caught)
    expect(TenantIsolationError.is(error, 'CLEANUP_FAILED')).toBe(true)
    expect((error as Error).message).toMatch(
      /^adminPool could not delete the throwaway tenants, which are left committed: public\.tenants id = /,
    )
  })
})
