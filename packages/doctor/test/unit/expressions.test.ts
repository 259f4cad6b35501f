import { matchesTable } from '@tenantscope/doctor'
import { tenantPredicate } from '@tenantscope/sql'
import { describe, expect, test } from 'vitest'
import { callsPerRow, isShippedPredicate, normalizeExpression } from '../../src/policy-expression.js'

describe('one table-name matcher: quoted or not, qualified or not', () => {
  test.each([
    ['public.orders', 'orders', true],
    ['public.orders', 'public.orders', true],
    ['public.orders', '"orders"', true],
    ['public."Orders"', 'Orders', true],
    ['public."Orders"', 'public."Orders"', true],
    ['public."Orders"', 'orders', false],
    ['public."a.b"', '"a.b"', true],
    ['public."a.b"', 'b', false],
    ['billing.orders', 'public.orders', false],
    ['public.orders_2', 'orders', false],
  ])('%s matches %s: %s', (name, entry, expected) => {
    expect(matchesTable(name, entry)).toBe(expected)
  })
})

describe('the recogniser and the builder agree', () => {
  // What pg_get_expr prints for the policy enable_tenant_rls and the Drizzle helpers create.
  const printed = {
    uuid: "(tenant_id = ( SELECT (NULLIF(current_setting('app.current_tenant'::text, true), ''::text))::uuid AS \"nullif\"))",
    bigint: "(org = ( SELECT (NULLIF(current_setting('myapp.org'::text, true), ''::text))::bigint AS \"nullif\"))",
    text: "(tenant_id = ( SELECT NULLIF(current_setting('myapp.tenant'::text, true), ''::text) AS \"nullif\"))",
  }
  test('the printed shipped policy is the built one, for each type and setting', () => {
    expect(isShippedPredicate(printed.uuid, tenantPredicate('tenant_id'))).toBe(true)
    expect(isShippedPredicate(printed.bigint, tenantPredicate('org', { setting: 'myapp.org', columnType: 'bigint' }))).toBe(true)
    expect(isShippedPredicate(printed.text, tenantPredicate('tenant_id', { setting: 'myapp.tenant', columnType: 'text' }))).toBe(true)
  })
  test('another setting, type or column is not', () => {
    expect(isShippedPredicate(printed.uuid, tenantPredicate('tenant_id', { setting: 'myapp.tenant' }))).toBe(false)
    expect(isShippedPredicate(printed.bigint, tenantPredicate('org', { setting: 'myapp.org' }))).toBe(false)
    expect(isShippedPredicate(printed.uuid, tenantPredicate('org'))).toBe(false)
    expect(isShippedPredicate(`${printed.uuid} OR true`, tenantPredicate('tenant_id'))).toBe(false)
    expect(normalizeExpression("tenant_id = (SELECT 'x'::text AS a)")).toBe("tenant_id = select 'x'")
  })
  test('calls of the setting outside a sub-select run per row', () => {
    const reads = (name: string) => name === 'current_setting' || name === 'tenantscope.current_tenant_id'
    expect(callsPerRow(printed.uuid, reads)).toEqual([])
    expect(callsPerRow("(tenant_id = (current_setting('app.current_tenant'::text))::uuid)", reads)).toEqual(['current_setting'])
    expect(callsPerRow('(tenant_id = tenantscope.current_tenant_id())', reads)).toEqual(['tenantscope.current_tenant_id'])
    expect(callsPerRow('(tenant_id = ( SELECT tenantscope.current_tenant_id() AS current_tenant_id))', reads)).toEqual([])
  })
})
