// --fix, --format sarif|junit, tenantscope diff and --other-database, on a copy of the mistakes fixture.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase, type TestDatabase, withClient } from '@tenantscope/test-harness'
import type { DoctorReport } from 'tenantscope'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { runCli } from '../run-cli.js'

const json = (stdout: string) => JSON.parse(stdout) as DoctorReport
const APP = 'tenantscope_test_app'

// Every fixture table whose findings all have SQL fixes that do not depend on one another.
const FIXABLE = [
  'm_rls_off',
  'm_not_forced',
  'm_no_policy',
  'm_select_only',
  'm_open_read',
  'm_open_write',
  'm_implicit_check',
  'm_cast',
  'm_not_missing_ok',
  'm_no_nullif',
  'm_helper',
  'm_bypass',
  'm_no_bare',
  'm_no_index',
  'm_unique_no_tenant',
  'm_or_true',
  'm_is_not_null',
  'm_not_equal',
  'm_null_or',
  'm_or_public',
  'm_other_column',
  'm_delete_open',
  'm_truncate',
  'm_part',
]
const tables = FIXABLE.flatMap((table) => ['--table', table])

describe('doctor output formats and fixes', () => {
  let clean: TestDatabase
  let broken: TestDatabase
  let directory: string
  beforeAll(async () => {
    clean = await createTestDatabase()
    broken = await createTestDatabase()
    directory = await mkdtemp(join(tmpdir(), 'tenantscope-doctor-'))
    const fixture = await readFile(new URL('./fixtures/mistakes.sql', import.meta.url), 'utf8')
    await withClient(broken.adminUrl, (admin) => admin.query(fixture))
  })
  afterAll(async () => {
    await clean?.drop()
    await broken?.drop()
    await rm(directory, { recursive: true, force: true })
  })

  test('--format sarif: SARIF 2.1.0, one result per finding, rules for their codes, stable fingerprints', async () => {
    const report = json((await runCli(['doctor', '--database-url', broken.adminUrl, '--role', APP, '--json'])).stdout)
    const result = await runCli(['doctor', '--database-url', broken.adminUrl, '--role', APP, '--format', 'sarif'])
    expect(result.code).toBe(1)
    const sarif = JSON.parse(result.stdout)
    expect(sarif.version).toBe('2.1.0')
    const [run] = sarif.runs
    expect(run.tool.driver.name).toBe('tenantscope doctor')
    expect(run.results).toHaveLength(report.findings.length)
    const ruleIds = run.tool.driver.rules.map((rule: { id: string }) => rule.id)
    expect(ruleIds).toEqual([...new Set(report.findings.map((f) => f.code))].sort())
    const forced = run.results.find((r: { ruleId: string }) => r.ruleId === 'rls_not_forced')
    expect(forced.level).toBe('error')
    expect(ruleIds[forced.ruleIndex]).toBe('rls_not_forced')
    expect(forced.locations[0].logicalLocations[0]).toEqual({ fullyQualifiedName: 'public.m_not_forced', kind: 'table' })
    expect(forced.partialFingerprints['tenantscopeFinding/v1']).toBe('rls_not_forced:public.m_not_forced')
    expect(forced.properties.fix).toBe('ALTER TABLE public.m_not_forced FORCE ROW LEVEL SECURITY;')
    expect(new Set(run.results.map((r: { level: string }) => r.level))).toEqual(new Set(['error', 'warning', 'note']))
    expect(run.tool.driver.version).toMatch(/^\d+\.\d+\.\d+/)
    // Code scanning shows results at a file: --sarif-uri names it.
    const located = JSON.parse(
      (
        await runCli([
          'doctor',
          '--database-url',
          broken.adminUrl,
          '--role',
          APP,
          '--format',
          'sarif',
          '--sarif-uri',
          'db/migrations/0007_rls.sql',
        ])
      ).stdout,
    )
    expect(located.runs[0].results[0].locations[0].physicalLocation).toEqual({ artifactLocation: { uri: 'db/migrations/0007_rls.sql' } })
  })

  test('--format junit: a test case per tenant table, failures at or above --fail-on', async () => {
    const result = await runCli([
      'doctor',
      '--database-url',
      broken.adminUrl,
      '--role',
      APP,
      '--format',
      'junit',
      '--table',
      'm_and_more',
      '--table',
      'm_not_forced',
      '--table',
      'm_cast',
    ])
    expect(result.code).toBe(1)
    const xml = result.stdout
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="tenantscope doctor" tests="3" failures="1"/)
    expect(xml).toContain('<testcase classname="tenantscope.doctor.table" name="table public.m_and_more">\n    </testcase>')
    expect(xml).toContain('<failure message="error rls_not_forced" type="error">')
    // A warning is below the default --fail-on: printed, not failed.
    expect(xml).toMatch(/name="table public.m_cast">\n\s+<system-out>WARNING policy_casts_tenant_column/)
    const warnings = await runCli([
      'doctor',
      '--database-url',
      broken.adminUrl,
      '--role',
      APP,
      '--format',
      'junit',
      '--fail-on',
      'warning',
      '--table',
      'm_cast',
    ])
    expect(warnings.stdout).toContain('failures="1"')
  })

  test('tenantscope diff: what the change made worse, as the CI gate', async () => {
    const worse = await runCli(['diff', '--before', clean.adminUrl, '--after', broken.adminUrl, '--role', APP, '--json'])
    expect(worse.code).toBe(1)
    const diff = JSON.parse(worse.stdout) as { added: { code: string; object: string }[]; removed: unknown[]; unchanged: unknown[] }
    expect(diff.added.map((f) => `${f.code} ${f.object}`)).toContain('rls_not_forced public.m_not_forced')
    expect(diff.removed).toEqual([])
    // The other way round, the migration fixed everything: nothing got worse.
    const better = await runCli(['diff', '--before', broken.adminUrl, '--after', clean.adminUrl, '--role', APP])
    expect(better.code).toBe(0)
    expect(better.stdout).toMatch(/^tenantscope diff: 0 new, \d+ fixed, 0 unchanged\n\nNothing got worse\.\n$/)
    // A report saved by doctor --format json is a baseline too; a warning-only change passes at --fail-on error.
    const saved = join(directory, 'before.json')
    await writeFile(
      saved,
      (await runCli(['doctor', '--database-url', broken.adminUrl, '--role', APP, '--json', '--table', 'm_and_more'])).stdout,
    )
    const cast = await runCli([
      'diff',
      '--before',
      saved,
      '--after',
      broken.adminUrl,
      '--role',
      APP,
      '--table',
      'm_and_more',
      '--table',
      'm_cast',
    ])
    expect(cast.code).toBe(0)
    expect(cast.stdout).toContain('tenantscope diff: 1 new, 0 fixed, 0 unchanged')
    expect(cast.stdout).toMatch(/warning\s+policy_casts_tenant_column/)
    const gate = await runCli([
      'diff',
      '--before',
      saved,
      '--after',
      broken.adminUrl,
      '--role',
      APP,
      '--table',
      'm_and_more',
      '--table',
      'm_cast',
      '--fail-on',
      'warning',
    ])
    expect(gate.code).toBe(1)
  })

  test('--other-database: the app role reaches the tenant tables of another database through tenantscope_app', async () => {
    const result = await runCli(['doctor', '--database-url', clean.adminUrl, '--role', APP, '--json', '--other-database', broken.name])
    expect(result.code).toBe(1)
    expect(json(result.stdout).findings.map((f) => [f.code, f.object])).toEqual([['app_role_reaches_other_database', broken.name]])
  })

  // Last: it changes the fixture.
  test('--fix prints one script (nothing is run); applied, the doctor finds the tables clean', async () => {
    const before = json((await runCli(['doctor', '--database-url', broken.adminUrl, '--role', APP, '--json', ...tables])).stdout)
    expect(before.findings.length).toBeGreaterThan(25)
    const fix = await runCli(['doctor', '--database-url', broken.adminUrl, '--role', APP, '--fix', ...tables])
    expect(fix.code).toBe(1)
    expect(fix.stdout).toMatch(/^-- tenantscope doctor --fix: review before running; nothing here has been run\.\n/)
    // Printing it ran nothing.
    expect(json((await runCli(['doctor', '--database-url', broken.adminUrl, '--role', APP, '--json', ...tables])).stdout).findings).toEqual(
      before.findings,
    )
    await withClient(broken.adminUrl, (admin) => admin.query(fix.stdout))
    const after = await runCli(['doctor', '--database-url', broken.adminUrl, '--role', APP, '--json', '--fail-on', 'info', ...tables])
    expect(json(after.stdout).findings).toEqual([])
    expect(after.code).toBe(0)
  })
})
