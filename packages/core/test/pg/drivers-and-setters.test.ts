import { createTenantPool, setLocalSetter, textTenantId, withTenant } from '@tenantscope/core'
import { Kysely, PostgresDialect, sql } from 'kysely'
import { describe, expect, test } from 'vitest'
import { useFixture } from './_fixtures.js'

describe('drivers and setters', () => {
  const fixture = useFixture()

  test("Kysely's PostgresDialect sits on a TenantPool unchanged", async () => {
    interface Database {
      tenants: { id: string; name: string }
    }
    const pool = createTenantPool({ connectionString: fixture.db.appUrl, max: 2 })
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
    try {
      const rows = await withTenant(fixture.tenantB, () => db.selectFrom('tenants').select('id').execute())
      expect(rows).toEqual([{ id: fixture.tenantB }])
      const inTransaction = await withTenant(fixture.tenantA, () =>
        db.transaction().execute(async (trx) => {
          const { rows } = await sql<{ tenant: string }>`SELECT current_setting('app.current_tenant') AS tenant`.execute(trx)
          return rows[0]?.tenant
        }),
      )
      expect(inTransaction).toBe(fixture.tenantA)
      await expect(db.selectFrom('tenants').select('id').execute()).rejects.toMatchObject({ code: 'TENANT_CONTEXT_MISSING' })
    } finally {
      await db.destroy()
    }
  })

  test('setLocalSetter (SET LOCAL through tenantscope.set_local, for Citus) scopes like set_config', async () => {
    const pool = createTenantPool({ connectionString: fixture.db.appUrl, max: 1 }, { setter: setLocalSetter })
    try {
      const { rows } = await withTenant(fixture.tenantA, () => pool.query('SELECT id FROM tenants'))
      expect(rows).toEqual([{ id: fixture.tenantA }])
      const inTransaction = await withTenant(fixture.tenantB, () =>
        pool.transaction(async (client) => (await client.query('SELECT id FROM tenants')).rows),
      )
      expect(inTransaction).toEqual([{ id: fixture.tenantB }])
      const after = await pool.unscopedPool.query(`SELECT current_setting('app.current_tenant', true) AS tenant`)
      expect(after.rows[0].tenant ?? '').toBe('')
    } finally {
      await pool.end()
    }
  })

  test('text tenant ids with another setting name, on a table whose tenant column is text', async () => {
    await fixture.admin.query(`
      CREATE TABLE notes (org text NOT NULL, body text NOT NULL);
      SELECT tenantscope.enable_tenant_rls('notes', 'org');
      GRANT SELECT, INSERT ON notes TO tenantscope_app;
      INSERT INTO notes (org, body) VALUES ('acme', 'a'), ('globex', 'g');`)
    const pool = createTenantPool({ connectionString: fixture.db.appUrl, max: 1 }, { parseTenantId: textTenantId })
    try {
      expect((await withTenant('acme', () => pool.query('SELECT org, body FROM notes'))).rows).toEqual([{ org: 'acme', body: 'a' }])
      await withTenant('globex', () => pool.query(`INSERT INTO notes (body) VALUES ('default fills org')`))
      const { rows } = await withTenant('globex', () => pool.query('SELECT org FROM notes ORDER BY body'))
      expect(rows).toEqual([{ org: 'globex' }, { org: 'globex' }])
      await expect(withTenant('not a slug!', () => pool.query('SELECT 1'))).rejects.toMatchObject({ code: 'INVALID_TENANT_ID' })
    } finally {
      await pool.end()
    }
  })

  test('a custom setting name reaches the database', async () => {
    const pool = createTenantPool({ connectionString: fixture.db.appUrl, max: 1 }, { setting: 'app.org' })
    try {
      const { rows } = await withTenant(fixture.tenantA, () =>
        pool.query(`SELECT current_setting('app.org', true) AS org, tenantscope.current_tenant() AS default_setting`),
      )
      expect(rows).toEqual([{ org: fixture.tenantA, default_setting: null }])
    } finally {
      await pool.end()
    }
  })
})
