import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createTestDatabase, freePort, type TestDatabase, withClient, withDatabase } from '@tenantscope/test-harness'
import type { DoctorReport } from 'tenantscope'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { runCli } from '../run-cli.js'

const json = (stdout: string) => JSON.parse(stdout) as DoctorReport
const noLeak = (text: string, ...secrets: string[]) => {
  for (const secret of secrets) expect(text).not.toContain(secret)
  expect(text).not.toMatch(/\n\s+at /)
}

describe('doctor on the shipped example schema', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase()
  })
  afterAll(async () => {
    await db.drop()
  })

  test('connected as the app role: no findings at all, exit 0', async () => {
    const result = await runCli(['doctor', '--database-url', db.appUrl, '--json', '--fail-on', 'info'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const report = json(result.stdout)
    expect(report.role).toBe('tenantscope_test_app')
    expect(report.tables).toEqual(['public.invoices', 'public.projects', 'public.users'])
    expect(report.findings).toEqual([])
  })

  test('connected as the admin, checking the app role given with --role; DATABASE_URL from the environment', async () => {
    const result = await runCli(['doctor', '--role', 'tenantscope_test_app', '--fail-on', 'info'], { DATABASE_URL: db.adminUrl })
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('role tenantscope_test_app, tenant column tenant_id, 3 tenant tables')
    expect(result.stdout).toContain('No findings.')
  })

  // Issue 18: without --role the checked role is the connected one, the maintenance role here: the fix
  // must not demote it (pasted, that breaks maintenance) but give the application a role of its own.
  test('the role the tests connect as for maintenance is reported: BYPASSRLS, and the fix keeps it', async () => {
    const result = await runCli(['doctor', '--database-url', db.maintenanceUrl, '--json'])
    expect(result.code).toBe(1)
    const findings = json(result.stdout).findings
    expect(findings.map((f) => f.code)).toEqual(['app_role_bypassrls'])
    expect(findings[0]!.fix).not.toMatch(/ALTER ROLE/)
    expect(findings[0]!.fix).toContain(
      'CREATE ROLE app_user LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB IN ROLE tenantscope_app;',
    )
  })

  test('run as the superuser without --role: never ALTER ROLE ... NOSUPERUSER on it', async () => {
    const result = await runCli(['doctor', '--database-url', db.adminUrl, '--json'])
    expect(result.code).toBe(1)
    const findings = json(result.stdout).findings
    expect(findings.map((f) => f.code)).toContain('app_role_superuser')
    for (const finding of findings) expect(finding.fix ?? '').not.toMatch(/ALTER ROLE|NOSUPERUSER;|NOBYPASSRLS;/)
  })

  // Was a warning with exit 0 (review finding 8): a typo in the tenant column must not read as clean.
  test('the wrong tenant column: an error that nothing was checked', async () => {
    const result = await runCli(['doctor', '--database-url', db.appUrl, '--tenant-column', 'org_id', '--json'])
    expect(result.code).toBe(1)
    expect(json(result.stdout).findings.map((f) => [f.code, f.severity])).toEqual([['no_tenant_tables', 'error']])
  })
})

describe('doctor on a database with one of each mistake', () => {
  let db: TestDatabase
  const suffix = randomBytes(4).toString('hex')
  const role = (name: string) => `ts_doctor_${suffix}_${name}`
  const roles = ['super', 'bypass', 'owner', 'owner_member', 'bypass_member', 'createrole', 'createrole_member', 'via', 'owner_nested']

  beforeAll(async () => {
    db = await createTestDatabase()
    const fixture = await readFile(new URL('./fixtures/mistakes.sql', import.meta.url), 'utf8')
    await withClient(db.adminUrl, async (admin) => {
      await admin.query(fixture)
      await admin.query(`
        CREATE ROLE ${role('super')} LOGIN SUPERUSER;
        CREATE ROLE ${role('bypass')} LOGIN BYPASSRLS;
        CREATE ROLE ${role('owner')} LOGIN;
        CREATE ROLE ${role('owner_member')} LOGIN IN ROLE ${role('owner')};
        CREATE ROLE ${role('bypass_member')} LOGIN IN ROLE ${role('bypass')};
        CREATE ROLE ${role('createrole')} LOGIN CREATEROLE;
        CREATE ROLE ${role('createrole_member')} LOGIN IN ROLE ${role('createrole')};
        CREATE ROLE ${role('via')} IN ROLE ${role('owner')};
        CREATE ROLE ${role('owner_nested')} LOGIN IN ROLE ${role('via')};
        CREATE TABLE m_owned (tenant_id uuid NOT NULL, id uuid NOT NULL DEFAULT gen_random_uuid(), PRIMARY KEY (tenant_id, id));
        SELECT tenantscope.enable_tenant_rls('m_owned');
        ALTER TABLE m_owned OWNER TO ${role('owner')};
      `)
    })
  })
  afterAll(async () => {
    await db.drop()
    await withClient(withDatabase(db.adminUrl, 'postgres'), async (admin) => {
      for (const name of [...roles].reverse()) await admin.query(`DROP ROLE IF EXISTS ${role(name)}`)
    })
  })

  // Every finding, and nothing else: the clean tables (m_good, m_owned, the
  // example schema) and the security_invoker view must not appear.
  const expected = [
    ['rls_disabled', 'error', 'public.m_rls_off'],
    ['rls_not_forced', 'error', 'public.m_not_forced'],
    ['no_policy', 'error', 'public.m_no_policy'],
    ['policy_missing_for_command', 'warning', 'public.m_select_only'],
    ['policy_missing_for_command', 'warning', 'public.m_select_only'],
    ['policy_missing_for_command', 'warning', 'public.m_select_only'],
    ['policy_not_tenant_scoped', 'error', 'm_open_read_all ON public.m_open_read'],
    ['policy_write_unchecked', 'error', 'm_open_write_all ON public.m_open_write'],
    ['policy_implicit_with_check', 'info', 'm_implicit_check_all ON public.m_implicit_check'],
    ['policy_casts_tenant_column', 'warning', 'm_cast_all ON public.m_cast'],
    ['policy_no_bare_tenant_column', 'warning', 'm_no_bare_all ON public.m_no_bare'],
    ['policy_setting_without_missing_ok', 'warning', 'm_not_missing_ok_all ON public.m_not_missing_ok'],
    ['policy_setting_without_missing_ok', 'warning', 'm_helper_all ON public.m_helper'],
    ['policy_setting_without_nullif', 'warning', 'm_no_nullif_all ON public.m_no_nullif'],
    ['policy_bypass_setting', 'error', 'm_bypass_all ON public.m_bypass'],
    ['no_tenant_first_index', 'warning', 'public.m_no_index'],
    ['primary_key_without_tenant', 'warning', 'm_pk_no_tenant_pkey ON public.m_pk_no_tenant'],
    ['unique_without_tenant', 'warning', 'm_unique_no_tenant_email ON public.m_unique_no_tenant'],
    ['unique_without_tenant', 'warning', 'm_unique_no_tenant_code ON public.m_unique_no_tenant'],
    ['foreign_key_without_tenant', 'error', 'm_fk_no_tenant_parent ON public.m_fk_no_tenant'],
    ['view_without_security_invoker', 'error', 'public.m_definer_view'],
    ['materialized_view_over_tenant_table', 'error', 'public.m_matview'],
    ['security_definer_reads_tenant_table', 'error', 'public.m_definer_count()'],
    ['policy_unrecognized', 'error', 'm_or_true_all ON public.m_or_true'],
    ['policy_unrecognized', 'error', 'm_is_not_null_all ON public.m_is_not_null'],
    ['policy_unrecognized', 'error', 'm_not_equal_all ON public.m_not_equal'],
    ['policy_unrecognized', 'error', 'm_null_or_all ON public.m_null_or'],
    ['policy_unrecognized', 'error', 'm_or_public_all ON public.m_or_public'],
    ['policy_unrecognized', 'error', 'm_other_column_all ON public.m_other_column'],
    ['policy_unrecognized', 'error', 'm_delete_open_any ON public.m_delete_open'],
    ['app_role_can_truncate', 'error', 'public.m_truncate'],
    ['rls_disabled', 'error', 'public.m_part_0'],
    ['partition_readable_directly', 'warning', 'public.m_part_0'],
    ['app_role_no_privileges', 'warning', 'public.m_owned'],
    ['policy_function_per_row', 'warning', 'm_bypass_all ON public.m_bypass'],
    ['policy_function_per_row', 'warning', 'm_helper_all ON public.m_helper'],
    ['policy_function_per_row', 'warning', 'm_no_nullif_all ON public.m_no_nullif'],
    ['policy_function_per_row', 'warning', 'm_not_missing_ok_all ON public.m_not_missing_ok'],
    ['sequence_shared_across_tenants', 'info', 'public.m_bigint_tenant_id_seq'],
    ['sequence_shared_across_tenants', 'info', 'public.m_text_tenant_id_seq'],
  ]
  const sorted = (rows: string[][]) => rows.map((row) => row.join(' | ')).sort()

  test('each mistake is found, with its severity and object, and nothing else', async () => {
    const result = await runCli(['doctor', '--database-url', db.adminUrl, '--role', 'tenantscope_test_app', '--json', '--fail-on', 'info'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(1)
    const report = json(result.stdout)
    expect(sorted(report.findings.map((f) => [f.code, f.severity, f.object]))).toEqual(sorted(expected))
    expect(report.counts).toEqual({ error: 19, warning: 18, info: 3 })
    for (const finding of report.findings) {
      expect(finding.why.length).toBeGreaterThan(20)
      // A decision only the user can make has no SQL; every other fix is statements.
      if (!['materialized_view_over_tenant_table', 'sequence_shared_across_tenants'].includes(finding.code))
        expect(finding.fix).toMatch(/;$/)
    }
  })

  test.each([
    ['super', ['app_role_superuser']],
    // These roles hold no GRANT on the table (only the owner's members do): reported too.
    ['bypass', ['app_role_bypassrls', 'app_role_no_privileges']],
    ['owner', ['app_role_owns_tenant_table']],
    ['owner_member', ['app_role_member_of_privileged_role']],
    ['bypass_member', ['app_role_member_of_privileged_role', 'app_role_no_privileges']],
    // CREATEROLE on PG 15: GRANT itself tenantscope_maintenance, SET ROLE, and RLS is off.
    ['createrole', ['app_role_createrole', 'app_role_no_privileges']],
    ['createrole_member', ['app_role_member_of_privileged_role', 'app_role_no_privileges']],
  ])('the application role %s is reported', async (name, codes) => {
    const result = await runCli(['doctor', '--database-url', db.adminUrl, '--role', role(name), '--json', '--table', 'm_owned'])
    expect(result.code).toBe(1)
    const findings = json(result.stdout).findings
    expect(findings.map((f) => f.code)).toEqual(codes)
    expect(findings[0]!.object).toBe(role(name))
  })

  test('membership through another role: the fix revokes the grant on the path', async () => {
    const result = await runCli(['doctor', '--database-url', db.adminUrl, '--role', role('owner_nested'), '--json', '--table', 'm_owned'])
    expect(result.code).toBe(1)
    const findings = json(result.stdout).findings
    expect(findings.map((f) => f.code)).toEqual(['app_role_member_of_privileged_role'])
    expect(findings[0]!.fix).toBe(`REVOKE ${role('owner')} FROM ${role('via')};`)
    const direct = json(
      (await runCli(['doctor', '--database-url', db.adminUrl, '--role', role('owner_member'), '--json', '--table', 'm_owned'])).stdout,
    )
    expect(direct.findings[0]!.fix).toBe(`REVOKE ${role('owner')} FROM ${role('owner_member')};`)
  })

  test('--fail-on decides the exit code', async () => {
    const only = (table: string, ...extra: string[]) => runCli(['doctor', '--database-url', db.appUrl, '--table', table, ...extra])
    expect((await only('m_cast')).code).toBe(0) // a warning
    expect((await only('m_cast', '--fail-on', 'warning')).code).toBe(1)
    expect((await only('m_implicit_check')).code).toBe(0) // info
    expect((await only('m_implicit_check', '--fail-on', 'warning')).code).toBe(0)
    expect((await only('m_implicit_check', '--fail-on', 'info')).code).toBe(1)
    expect((await only('m_rls_off')).code).toBe(1)
  })

  test('--table brings the partitions of the table: a partition without RLS is reported', async () => {
    const result = await runCli(['doctor', '--database-url', db.appUrl, '--table', 'm_part', '--json'])
    expect(result.code).toBe(1)
    const report = json(result.stdout)
    expect(report.tables).toEqual(['public.m_part', 'public.m_part_0'])
    expect(report.findings.map((f) => [f.code, f.object])).toEqual([
      ['rls_disabled', 'public.m_part_0'],
      ['partition_readable_directly', 'public.m_part_0'],
    ])
  })

  test('a --table that names no tenant table is a usage error (exit 2), not a clean report', async () => {
    const result = await runCli(['doctor', '--database-url', db.appUrl, '--table', 'm_good', '--table', 'm_or_tru'])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe('tenantscope doctor: No tenant table (with a tenant_id column) is named m_or_tru\n')
  })

  test('a --schema typo: no tenant tables is an error (exit 1)', async () => {
    const result = await runCli(['doctor', '--database-url', db.appUrl, '--schema', 'publc', '--json'])
    expect(result.code).toBe(1)
    expect(json(result.stdout).findings.map((f) => [f.code, f.severity])).toEqual([['no_tenant_tables', 'error']])
  })

  test('the readable output lists each finding with why and fix', async () => {
    const result = await runCli(['doctor', '--database-url', db.appUrl, '--table', 'm_not_forced'])
    expect(result.code).toBe(1)
    expect(result.stdout).toContain('1 error, 0 warnings, 0 info')
    expect(result.stdout).toMatch(/error\s+rls_not_forced\s+table public\.m_not_forced/)
    expect(result.stdout).toContain('fix:\n    ALTER TABLE public.m_not_forced FORCE ROW LEVEL SECURITY;')
  })

  // Last: it changes the fixture.
  test('the fixes are SQL that PostgreSQL accepts and that clears the findings', async () => {
    const before = json(
      (
        await runCli([
          'doctor',
          '--database-url',
          db.adminUrl,
          '--role',
          'tenantscope_test_app',
          '--json',
          '--table',
          'm_rls_off',
          '--table',
          'm_not_forced',
          '--table',
          'm_open_read',
          '--table',
          'm_cast',
          '--table',
          'm_bypass',
          '--table',
          'm_no_nullif',
          '--table',
          'm_delete_open',
          '--table',
          'm_truncate',
        ])
      ).stdout,
    )
    // The eight mistakes, and the per-row setting reads of m_bypass and m_no_nullif (same fix as their other finding).
    expect(before.findings).toHaveLength(10)
    await withClient(db.adminUrl, async (admin) => {
      for (const finding of before.findings) await admin.query(`BEGIN; ${finding.fix}; COMMIT`)
    })
    const after = await runCli([
      'doctor',
      '--database-url',
      db.adminUrl,
      '--role',
      'tenantscope_test_app',
      '--json',
      '--fail-on',
      'info',
      '--table',
      'm_rls_off',
      '--table',
      'm_not_forced',
      '--table',
      'm_open_read',
      '--table',
      'm_cast',
      '--table',
      'm_bypass',
      '--table',
      'm_no_nullif',
      '--table',
      'm_delete_open',
      '--table',
      'm_truncate',
    ])
    expect(json(after.stdout).findings).toEqual([])
    expect(after.code).toBe(0)
  })
})

describe('doctor cannot run: exit 2, one line, no secrets', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase()
  })
  afterAll(async () => {
    await db.drop()
  })

  test('nothing listens on the port', async () => {
    const port = await freePort()
    const url = `postgres://someone:pa55-w0rd@127.0.0.1:${port}/app`
    const result = await runCli(['doctor', '--database-url', url])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/^tenantscope doctor: cannot connect to the database: .*ECONNREFUSED.*\n$/)
    noLeak(result.stderr, 'pa55-w0rd', url)
  })

  test('a database that does not exist, the password in the URL', async () => {
    const url = new URL(db.appUrl)
    url.pathname = '/no_such_database_here'
    url.password = 'Se-cret-pw'
    const result = await runCli(['doctor'], { DATABASE_URL: url.toString() })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(
      /^tenantscope doctor: cannot connect to the database: .*(no_such_database_here|password authentication failed).*\n$/,
    )
    noLeak(result.stderr, 'Se-cret-pw', url.toString())
  })

  test('a role that does not exist', async () => {
    const result = await runCli(['doctor', '--database-url', db.appUrl, '--role', 'no_such_role'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('tenantscope doctor: Role no_such_role does not exist\n')
  })
})

describe('tenantscope sql output is what PostgreSQL runs', () => {
  test('the printed migrations and example schema apply to an empty database, and the doctor finds it clean', async () => {
    const db = await createTestDatabase()
    try {
      const empty = `${db.name}_empty`
      const serverUrl = withDatabase(db.adminUrl, 'postgres')
      await withClient(serverUrl, (admin) => admin.query(`CREATE DATABASE ${empty} TEMPLATE template0`))
      try {
        const emptyUrl = withDatabase(db.adminUrl, empty)
        const printed = await runCli(['sql', '--examples'])
        expect(printed.code).toBe(0)
        await withClient(emptyUrl, async (admin) => {
          await admin.query(printed.stdout)
          await admin.query(printed.stdout) // idempotent
          const { rows } = await admin.query(`SELECT to_regprocedure('tenantscope.current_tenant_id()') IS NOT NULL AS ok`)
          expect(rows[0].ok).toBe(true)
        })
        const result = await runCli(['doctor', '--database-url', emptyUrl, '--role', 'tenantscope_app', '--fail-on', 'info'])
        expect(result.stdout).toContain('3 tenant tables')
        expect(result.code).toBe(0)
      } finally {
        await withClient(serverUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${empty} WITH (FORCE)`))
      }
    } finally {
      await db.drop()
    }
  })
})
