import { type DoctorReport, diffReports, type Finding, fixScript, formatJunit } from '@tenantscope/doctor'
import { describe, expect, test } from 'vitest'

const forced: Finding = {
  code: 'rls_not_forced',
  severity: 'error',
  objectType: 'table',
  object: 'public.orders',
  table: 'public.orders',
  why: 'the owner bypasses every policy',
  fix: 'ALTER TABLE public.orders FORCE ROW LEVEL SECURITY;',
}
const cast: Finding = {
  ...forced,
  code: 'policy_casts_tenant_column',
  severity: 'warning',
  objectType: 'policy',
  object: 'p ON public.orders',
  fix: 'DROP POLICY p ON public.orders;',
}
const perRow: Finding = { ...cast, code: 'policy_function_per_row' }
const sequence: Finding = {
  ...forced,
  code: 'sequence_shared_across_tenants',
  severity: 'info',
  objectType: 'sequence',
  object: 'public.orders_id_seq',
  fix: undefined,
} as Finding
const role: Finding = {
  code: 'app_role_bypassrls',
  severity: 'error',
  objectType: 'role',
  object: 'app',
  why: 'a <b> & "c"',
  fix: '-- only a comment',
}

function report(findings: Finding[]): DoctorReport {
  const counts = { error: 0, warning: 0, info: 0 }
  for (const finding of findings) counts[finding.severity]++
  return { findings, role: 'app', tenantColumn: 'tenant_id', tables: ['public.orders', 'public.clean'], counts }
}

describe('fixScript', () => {
  test('each distinct fix once, under its finding; findings without SQL listed as comments at the end', () => {
    expect(fixScript(report([forced, cast, perRow, sequence, role]))).toBe(
      [
        '-- tenantscope doctor --fix: review before running; nothing here has been run.',
        '',
        '-- error rls_not_forced: table public.orders',
        'ALTER TABLE public.orders FORCE ROW LEVEL SECURITY;',
        '',
        '-- warning policy_casts_tenant_column: policy p ON public.orders',
        'DROP POLICY p ON public.orders;',
        '',
        '-- Not fixable by SQL alone (see the report for why):',
        '--   info sequence_shared_across_tenants: sequence public.orders_id_seq',
        '--   error app_role_bypassrls: role app',
        '',
      ].join('\n'),
    )
  })

  test('a policy that is dropped and created again gets no ALTER POLICY written against its old expression', () => {
    const replace: Finding = { ...cast, fix: 'DROP POLICY p ON public.orders;\nCREATE POLICY p ON public.orders USING (true);' }
    const implicit: Finding = {
      ...cast,
      code: 'policy_implicit_with_check',
      severity: 'info',
      fix: 'ALTER POLICY p ON public.orders WITH CHECK (old);',
    }
    const script = fixScript(report([replace, implicit]))
    expect(script).toContain('DROP POLICY p ON public.orders;')
    expect(script).not.toContain('ALTER POLICY')
  })
})

describe('diffReports', () => {
  test('added, removed and unchanged by code and object, whatever the wording', () => {
    const diff = diffReports(report([forced, cast]), report([{ ...cast, why: 'reworded' }, sequence]))
    expect(diff.added).toEqual([sequence])
    expect(diff.removed).toEqual([forced])
    expect(diff.unchanged.map((f) => f.code)).toEqual(['policy_casts_tenant_column'])
  })
})

describe('formatJunit', () => {
  test('a case per tenant table and per other object; failures at --fail-on; XML escaped', () => {
    const xml = formatJunit(report([forced, cast, role]))
    expect(xml).toContain('<testsuites name="tenantscope doctor" tests="3" failures="2" errors="0" skipped="0">')
    expect(xml).toContain('<testcase classname="tenantscope.doctor.table" name="table public.clean">\n    </testcase>')
    expect(xml).toContain('why: a &lt;b&gt; &amp; &quot;c&quot;')
    expect(xml).toMatch(
      /<failure message="error rls_not_forced" type="error">[^<]*<\/failure>\n\s+<system-out>WARNING policy_casts_tenant_column/,
    )
    expect(formatJunit(report([cast]), { failOn: 'warning' })).toContain('failures="1"')
    expect(formatJunit(report([cast]))).toContain('failures="0"')
  })
})
