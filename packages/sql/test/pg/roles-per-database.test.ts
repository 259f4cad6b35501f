import { randomBytes, randomUUID } from 'node:crypto'
import { createTenantPool, withTenant } from '@tenantscope/core'
import { applyMigrations, migrations } from '@tenantscope/sql'
import { createTestDatabase, type TestDatabase, withClient, withDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

// Roles are cluster-wide. Two applications on one server, each with its own
// app role (the migrations take the name) and CONNECT revoked from PUBLIC as
// the README says: the login of application A cannot even connect to B's
// database, and works in its own.
describe('one app role per database, CONNECT revoked from PUBLIC', () => {
  const suffix = randomBytes(4).toString('hex')
  const names = (app: 'a' | 'b') => ({
    appRole: `tsh_${suffix}_${app}_app`,
    maintenanceRole: `tsh_${suffix}_${app}_maintenance`,
    login: { name: `tsh_${suffix}_${app}_login`, password: `pw-${suffix}-${app}` },
  })
  const A = names('a')
  const B = names('b')
  const tenant = randomUUID()
  let dbA: TestDatabase
  let dbB: TestDatabase

  beforeAll(async () => {
    ;[dbA, dbB] = await Promise.all([createTestDatabase(), createTestDatabase()])
    // A takes the names through applyMigrations, B through the database's own setting.
    await withClient(dbB.adminUrl, (admin) =>
      admin.query(`ALTER DATABASE ${dbB.name} SET tenantscope.app_role = '${B.appRole}';
        ALTER DATABASE ${dbB.name} SET tenantscope.maintenance_role = '${B.maintenanceRole}'`),
    )
    for (const [db, app, options] of [
      [dbA, A, { appRole: A.appRole, maintenanceRole: A.maintenanceRole }],
      [dbB, B, {}],
    ] as const) {
      await withClient(db.adminUrl, async (admin) => {
        await applyMigrations(admin, options)
        await admin.query(`CREATE ROLE ${app.login.name} LOGIN PASSWORD '${app.login.password}' IN ROLE ${app.appRole}`)
        await admin.query(`GRANT SELECT ON tenants, projects TO ${app.appRole}`)
        await admin.query(`INSERT INTO tenants (id, name) VALUES ($1, 'T')`, [tenant])
        await admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'secret of ${db === dbA ? 'A' : 'B'}')`, [tenant])
      })
    }
  })

  afterAll(async () => {
    await dbA?.drop()
    await dbB?.drop()
    // Roles outlive databases: drop every one this test made.
    await withClient(withDatabase(dbA.adminUrl, 'postgres'), async (admin) => {
      for (const app of [A, B]) {
        for (const role of [app.login.name, app.appRole, app.maintenanceRole]) await admin.query(`DROP ROLE IF EXISTS ${role}`)
      }
    })
  })

  const connectAs = async (db: TestDatabase, login: { name: string; password: string }) => {
    const client = new pg.Client({ connectionString: withDatabase(db.adminUrl, db.name, login) })
    await client.connect()
    return client
  }

  test('the migrations created the named roles, with CONNECT on their own database only', async () => {
    await withClient(dbA.adminUrl, async (admin) => {
      const { rows } = await admin.query(
        `SELECT r.rolname, r.rolbypassrls, has_database_privilege(r.rolname, $1, 'CONNECT') AS own,
                has_schema_privilege(r.rolname, 'tenantscope', 'USAGE') AS schema
           FROM pg_roles r WHERE r.rolname = ANY($2) ORDER BY r.rolname`,
        [dbA.name, [A.appRole, A.maintenanceRole]],
      )
      expect(rows).toEqual([
        { rolname: A.appRole, rolbypassrls: false, own: true, schema: true },
        { rolname: A.maintenanceRole, rolbypassrls: true, own: true, schema: false },
      ])
    })
  })

  test("before the REVOKE, A's login connects to B's database (PUBLIC has CONNECT), but B's grants are not A's", async () => {
    const client = await connectAs(dbB, A.login)
    try {
      await expect(client.query('SELECT name FROM projects')).rejects.toMatchObject({ code: '42501' })
    } finally {
      await client.end()
    }
  })

  test("with CONNECT revoked from PUBLIC, A's login cannot connect to B, and still works in A", async () => {
    for (const db of [dbA, dbB]) {
      await withClient(db.adminUrl, (admin) => admin.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${db.name} FROM PUBLIC`))
    }
    await expect(connectAs(dbB, A.login)).rejects.toMatchObject({ code: '42501' })
    await expect(connectAs(dbA, B.login)).rejects.toMatchObject({ code: '42501' })

    const pool = createTenantPool({ connectionString: withDatabase(dbA.adminUrl, dbA.name, A.login), max: 1 })
    try {
      const { rows } = await withTenant(tenant, () => pool.query('SELECT name FROM projects'))
      expect(rows).toEqual([{ name: 'secret of A' }])
    } finally {
      await pool.end()
    }
  })

  test('a role name that is not a lower-case identifier is refused, in JS and in SQL', async () => {
    await withClient(dbA.adminUrl, async (admin) => {
      await expect(applyMigrations(admin, { appRole: 'x; DROP TABLE projects' })).rejects.toThrow(/appRole/)
      const roles = migrations.find((migration) => migration.name === '0003_roles')!
      await expect(admin.query(`BEGIN; SET LOCAL tenantscope.app_role = 'Bad"Name'; ${roles.sql}`)).rejects.toMatchObject({ code: '22023' })
      await admin.query('ROLLBACK')
    })
  })
})
