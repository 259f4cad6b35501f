import { applyMigrations, exampleMigrations, migrations } from '@tenantscope/sql'
import pg from 'pg'
import { ROLES_SQL } from './roles.js'
import { withDatabase } from './urls.js'
import { withClient } from './with-client.js'

/**
 * Builds the template every test database is copied from: tenantscope's
 * migrations and the example schema, applied by the admin (so the tables are
 * owned by the admin, never by the role the tests connect as).
 */
export async function createTemplate(adminUrl: string, name: string): Promise<void> {
  await withClient(adminUrl, async (admin) => {
    await admin.query(`CREATE DATABASE ${name}`)
  })
  await withClient(withDatabase(adminUrl, name), async (client) => {
    await applyMigrations(client, [...migrations, ...exampleMigrations])
    await client.query(ROLES_SQL)
  })
}

export async function dropDatabases(adminUrl: string, prefix: string): Promise<void> {
  await withClient(adminUrl, async (admin) => {
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname DESC`,
      [prefix],
    )
    for (const { datname } of rows) {
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(datname)} WITH (FORCE)`)
    }
  })
}
