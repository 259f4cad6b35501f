// The fixes the doctor prints are pasted as is: every identifier and literal
// in them must parse whatever the name and whatever standard_conforming_strings.
// Compared with the server's own quote_ident, and a fix pasted for a role
// named with a reserved word, on a table whose name needs quotes.
import { runDoctor } from '@tenantscope/doctor'
import { createTestDatabase, type TestDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ident, literal } from '../../src/sql-text.js'

describe('doctor: identifiers and literals in pasteable fixes', () => {
  let db: TestDatabase
  let admin: pg.Pool

  beforeAll(async () => {
    db = await createTestDatabase()
    admin = new pg.Pool({ connectionString: db.adminUrl, max: 1 })
  })
  afterAll(async () => {
    await admin?.query(
      `DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'grant') THEN DROP OWNED BY "grant"; DROP ROLE "grant"; END IF; END $$`,
    )
    await admin?.end()
    await db?.drop()
  })

  test('ident quotes exactly what quote_ident quotes: every keyword of this server, and odd names', async () => {
    const names = ['grant', 'user', 'Order Lines', 'Orders', 'a$b', 'x"y', '1abc', 'tenant_id', '_x9', 'name', 'été']
    const { rows } = await admin.query<{ word: string; quoted: string }>(
      `SELECT word, quote_ident(word) AS quoted FROM pg_get_keywords() UNION ALL SELECT n, quote_ident(n) FROM unnest($1::text[]) n`,
      [names],
    )
    expect(rows.length).toBeGreaterThan(400)
    expect(rows.filter((row) => ident(row.word) !== row.quoted)).toEqual([])
  })

  test('literal reads back the same with standard_conforming_strings on and off', async () => {
    const values = ["it's", 'C:\\tenants\\new', "\\'; DROP TABLE tenants; --", 'plain']
    for (const conforming of ['on', 'off']) {
      const client = await admin.connect()
      try {
        await client.query(`SET standard_conforming_strings = ${conforming}; SET escape_string_warning = off`)
        const { rows } = await client.query(`SELECT ARRAY[${values.map(literal).join(', ')}]::text[] AS v`)
        expect(rows[0].v).toEqual(values)
      } finally {
        await client.query('RESET standard_conforming_strings; RESET escape_string_warning')
        client.release()
      }
    }
  })

  test('a role named grant without privileges on "Order Lines": the pasted GRANT runs and the finding goes', async () => {
    await admin.query(`
      DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'grant') THEN CREATE ROLE "grant" NOLOGIN; END IF; END $$;
      CREATE TABLE "Order Lines" (tenant_id uuid NOT NULL, id serial, PRIMARY KEY (tenant_id, id));
      SELECT tenantscope.enable_tenant_rls('"Order Lines"');`)
    const codes = async () => (await runDoctor(admin, { role: 'grant', tables: ['"Order Lines"'] })).findings
    const finding = (await codes()).find((f) => f.code === 'app_role_no_privileges')
    expect(finding?.fix).toBe(`GRANT SELECT, INSERT, UPDATE, DELETE ON public."Order Lines" TO "grant";`)
    await admin.query(finding!.fix!)
    expect((await codes()).map((f) => f.code)).not.toContain('app_role_no_privileges')
  })
})
