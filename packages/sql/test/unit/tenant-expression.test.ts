import { DEFAULT_TENANT_SETTING, tenantExpression, tenantPredicate } from '@tenantscope/sql'
import { describe, expect, test } from 'vitest'

describe('tenantExpression / tenantPredicate: the one spelling of the tenant expression', () => {
  test('defaults: app.current_tenant as uuid', () => {
    expect(DEFAULT_TENANT_SETTING).toBe('app.current_tenant')
    expect(tenantExpression()).toBe("NULLIF(current_setting('app.current_tenant', true), '')::uuid")
    expect(tenantPredicate('tenant_id')).toBe("tenant_id = (SELECT NULLIF(current_setting('app.current_tenant', true), '')::uuid)")
  })

  test('a setting and a column type: text needs no cast', () => {
    expect(tenantExpression({ setting: 'myapp.org', columnType: 'bigint' })).toBe("NULLIF(current_setting('myapp.org', true), '')::bigint")
    expect(tenantExpression({ setting: 'myapp.org', columnType: 'text' })).toBe("NULLIF(current_setting('myapp.org', true), '')")
    expect(tenantExpression({ columnType: 'character varying(64)' })).toBe(
      "NULLIF(current_setting('app.current_tenant', true), '')::character varying(64)",
    )
  })

  test('the setting is always a literal; a type that could end the expression throws', () => {
    expect(tenantExpression({ setting: "a'b.c" })).toBe("NULLIF(current_setting('a''b.c', true), '')::uuid")
    for (const columnType of ['uuid); DROP TABLE t; --', "uuid'", 'uuid /* x */', '']) {
      expect(() => tenantExpression({ columnType })).toThrow(TypeError)
    }
    expect(() => tenantExpression({ setting: '' })).toThrow(TypeError)
  })
})
