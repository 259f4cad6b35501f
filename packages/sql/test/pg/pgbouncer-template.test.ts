import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createTenantPool, withTenant } from '@tenantscope/core'
import {
  APP_ROLE,
  createTestDatabase,
  type PgBouncer,
  startPgBouncerWithIni,
  type TestDatabase,
  withDatabase,
} from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

const TEMPLATE = new URL('../../../../sql/pgbouncer.ini', import.meta.url)

// The shipped template, started as a user would start it: only the lines a
// user fills in (the [databases] entry, the port, the auth_file) are
// replaced, and log and pid files are added so the test can read and stop
// it. It must start on the PgBouncer Debian ships (1.18 on this machine).
describe('sql/pgbouncer.ini', () => {
  let db: TestDatabase
  let bouncer: PgBouncer
  let template: string
  const A = randomUUID()
  const B = randomUUID()

  beforeAll(async () => {
    template = await readFile(TEMPLATE, 'utf8')
    db = await createTestDatabase()
    const admin = new pg.Client({ connectionString: db.adminUrl })
    await admin.connect()
    try {
      await admin.query(`INSERT INTO tenants (id, name) VALUES ($1, 'A'), ($2, 'B')`, [A, B])
      await admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'project of A'), ($2, 'project of B')`, [A, B])
    } finally {
      await admin.end()
    }
    bouncer = await startPgBouncerWithIni(db.adminUrl, (setup) => {
      const filled = replaceLine(
        replaceLine(
          replaceLine(template, /^app = .*$/m, `app = host=${setup.serverHost} port=${setup.serverPort} dbname=${db.name}`),
          /^listen_port = .*$/m,
          `listen_port = ${setup.port}`,
        ),
        /^auth_file = .*$/m,
        `auth_file = ${setup.authFile}`,
      )
      return `${filled}\nlogfile = ${setup.logFile}\npidfile = ${setup.pidFile}\nunix_socket_dir =\n`
    })
  })
  afterAll(async () => {
    await bouncer?.stop()
    await db?.drop()
  })

  test('starts, and a scoped query runs through it as the app role, with scram-sha-256 as shipped', async () => {
    const url = withDatabase(bouncer.url(db.appUrl), 'app', APP_ROLE)
    const pool = createTenantPool({ connectionString: url, max: 2 })
    try {
      for (const [tenant, name] of [
        [A, 'project of A'],
        [B, 'project of B'],
        [A, 'project of A'],
      ] as const) {
        const { rows } = await withTenant(tenant, () => pool.query('SELECT name FROM projects'))
        expect(rows).toEqual([{ name }])
      }
      const inTransaction = await withTenant(B, () => pool.transaction((tx) => tx.query('SELECT name FROM projects')))
      expect(inTransaction.rows).toEqual([{ name: 'project of B' }])
    } finally {
      await pool.end()
    }
    expect(await bouncer.log()).not.toMatch(/FATAL|unknown parameter/i)
  })

  test('every line that needs PgBouncer 1.21 or later is commented out, and says so', () => {
    const active = template.split('\n').filter((line) => /^\s*max_prepared_statements\s*=/.test(line))
    expect(active).toEqual([])
    expect(template).toMatch(/^;\s*max_prepared_statements = \d+/m)
    expect(template).toMatch(/1\.21/)
  })
})

function replaceLine(text: string, line: RegExp, replacement: string): string {
  if (!line.test(text)) throw new Error(`the template has no line matching ${line}`)
  return text.replace(line, replacement)
}
