import { type DoctorReport, type Finding, formatReport, hasFindingsAtLeast, isAtLeast } from '@tenantscope/doctor'
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
const index: Finding = {
  ...forced,
  code: 'no_tenant_first_index',
  severity: 'warning',
  why: 'scans',
  fix: 'CREATE INDEX ON public.orders (tenant_id);',
}

function report(findings: Finding[]): DoctorReport {
  const counts = { error: 0, warning: 0, info: 0 }
  for (const finding of findings) counts[finding.severity]++
  return { findings, role: 'app_user', tenantColumn: 'tenant_id', tables: ['public.orders'], counts }
}

describe('formatReport', () => {
  test('a clean report says so', () => {
    const text = formatReport(report([]))
    expect(text).toContain('role app_user, tenant column tenant_id, 1 tenant table')
    expect(text).toContain('0 errors, 0 warnings, 0 info')
    expect(text).toContain('No findings.')
  })

  test('a table of findings, then each with why and fix', () => {
    const text = formatReport(report([forced, index]))
    expect(text).toContain('1 error, 1 warning, 0 info')
    expect(text).toMatch(
      /SEVERITY\s+CODE\s+OBJECT\nerror\s+rls_not_forced\s+table public\.orders\nwarning\s+no_tenant_first_index\s+table public\.orders/,
    )
    expect(text).toContain(
      'ERROR rls_not_forced: table public.orders\n  why: the owner bypasses every policy\n  fix:\n    ALTER TABLE public.orders FORCE ROW LEVEL SECURITY;',
    )
    expect(text).toContain('WARNING no_tenant_first_index')
  })
})

describe('severity thresholds', () => {
  test('isAtLeast orders error > warning > info', () => {
    expect(isAtLeast('error', 'warning')).toBe(true)
    expect(isAtLeast('warning', 'warning')).toBe(true)
    expect(isAtLeast('info', 'warning')).toBe(false)
    expect(isAtLeast('warning', 'error')).toBe(false)
  })

  test('hasFindingsAtLeast is what --fail-on decides', () => {
    expect(hasFindingsAtLeast(report([index]), 'error')).toBe(false)
    expect(hasFindingsAtLeast(report([index]), 'warning')).toBe(true)
    expect(hasFindingsAtLeast(report([]), 'info')).toBe(false)
  })
})
