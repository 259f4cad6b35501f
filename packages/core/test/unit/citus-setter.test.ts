import { citusSetter, createTenantPool, setConfigSetter, setLocalSetter } from '@tenantscope/core'
import { describe, expect, test } from 'vitest'

describe('Citus mode, without a database', () => {
  test('citusSetter sets citus.propagate_set_commands before the tenant, every value a bind parameter', () => {
    expect(citusSetter([['app.current_tenant', 't']])).toEqual({
      text: `SELECT set_config('citus.propagate_set_commands', 'local', true), tenantscope.set_local($1, $2)`,
      values: ['app.current_tenant', 't'],
    })
    expect(
      citusSetter([
        ['app.current_tenant', 't'],
        ['app.user_id', "u'; --"],
      ]).text,
    ).toBe(`SELECT set_config('citus.propagate_set_commands', 'local', true), tenantscope.set_local($1, $2), tenantscope.set_local($3, $4)`)
  })

  test('citus: true refuses a second setter (INVALID_CONFIG), and takes its own', async () => {
    for (const setter of [setConfigSetter, setLocalSetter, () => ({ text: 'SELECT 1', values: [] })]) {
      expect(() => createTenantPool({ connectionString: 'postgres://localhost/x' }, { citus: true, setter })).toThrow(
        expect.objectContaining({ name: 'TenantScopeError', code: 'INVALID_CONFIG' }),
      )
    }
    const pool = createTenantPool({ connectionString: 'postgres://localhost/x' }, { citus: true, setter: citusSetter })
    await pool.end()
  })
})
