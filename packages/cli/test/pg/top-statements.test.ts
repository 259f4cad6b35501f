import { withTenant } from '@tenantscope/core'
import { createTableDirectory, createTenantRouter, type TenantRouter } from '@tenantscope/router'
import { APP_ROLE, createTemplate, type PostgresServer, startPrivateServer, withClient, withDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { runCli } from '../run-cli.js'

const POOLED_A = '0a0a0a0a-0000-4000-8000-00000000000a'
const POOLED_B = '0b0b0b0b-0000-4000-8000-00000000000b'
const SCHEMA_TENANT = '05050505-0000-4000-8000-000000000005'
const DATABASE_TENANT = '0d0d0d0d-0000-4000-8000-00000000000d'
// The same role name in a region's database: its statements run there, never here.
const REGION_TENANT = '0e0e0e0e-0000-4000-8000-00000000000e'

// tenantscope top reading pg_stat_statements on a server of the test's own
// (the shared one does not preload it): statements sent through the router
// for a pooled, a schema and a database tenant, then top's attribution.
describe('tenantscope top with pg_stat_statements', () => {
  let server: PostgresServer
  let primaryUrl: string
  let router: TenantRouter
  let directoryPool: pg.Pool

  beforeAll(async () => {
    server = await startPrivateServer({ shared_preload_libraries: 'pg_stat_statements' })
    await createTemplate(server.adminUrl, 'top_template')
    await withClient(server.adminUrl, async (admin) => {
      await admin.query('CREATE DATABASE top_primary TEMPLATE top_template')
      await admin.query('CREATE DATABASE top_silo TEMPLATE top_template')
    })
    primaryUrl = withDatabase(server.adminUrl, 'top_primary')
    await withClient(primaryUrl, async (admin) => {
      await admin.query(`
        -- Off the search_path: top must find the schema the extension lives in.
        CREATE SCHEMA stats;
        CREATE EXTENSION pg_stat_statements SCHEMA stats;
        CREATE ROLE top_gate NOLOGIN NOINHERIT;
        GRANT top_gate TO ${APP_ROLE.name};
        CREATE ROLE top_tenant_s NOLOGIN;
        GRANT top_tenant_s TO top_gate;
        CREATE SCHEMA tenant_s;
        CREATE TABLE tenant_s.projects (id serial PRIMARY KEY, name text NOT NULL);
        GRANT USAGE ON SCHEMA tenant_s TO top_tenant_s;
        GRANT SELECT ON ALL TABLES IN SCHEMA tenant_s TO top_tenant_s;`)
      await admin.query(`INSERT INTO tenants (id, name) VALUES ($1, 'A'), ($2, 'B')`, [POOLED_A, POOLED_B])
      await admin.query(
        `INSERT INTO tenantscope.tenant_directory (tenant_id, strategy, schema_name, role_name, database_key, region) VALUES
           ($1, 'pool', NULL, NULL, NULL, NULL), ($2, 'pool', NULL, NULL, NULL, NULL),
           ($3, 'schema', 'tenant_s', 'top_tenant_s', NULL, NULL), ($4, 'database', NULL, NULL, 'top_silo', NULL),
           ($5, 'schema', 'tenant_s', 'top_tenant_s', NULL, 'eu')`,
        [POOLED_A, POOLED_B, SCHEMA_TENANT, DATABASE_TENANT, REGION_TENANT],
      )
    })
    await withClient(withDatabase(server.adminUrl, 'top_silo'), (admin) =>
      admin.query(`INSERT INTO tenants (id, name) VALUES ($1, 'D')`, [DATABASE_TENANT]),
    )
    const appUrl = withDatabase(server.adminUrl, 'top_primary', APP_ROLE)
    directoryPool = new pg.Pool({ connectionString: appUrl, max: 1 })
    router = createTenantRouter({
      directory: await createTableDirectory(directoryPool),
      pool: { connectionString: appUrl, max: 2 },
      databases: { connectionFor: (entry) => withDatabase(server.adminUrl, entry.database!, APP_ROLE) },
    })
    // Distinct column aliases make each statement its own pg_stat_statements entry.
    for (let i = 0; i < 3; i++) {
      await withTenant(POOLED_A, () => router.query('SELECT count(*) AS pooled_marker FROM projects'))
      await withTenant(POOLED_B, () => router.query('SELECT count(*) AS pooled_marker FROM projects'))
      await withTenant(SCHEMA_TENANT, () => router.query('SELECT count(*) AS schema_marker FROM projects'))
      await withTenant(DATABASE_TENANT, () => router.query('SELECT count(*) AS silo_marker FROM projects'))
    }
  }, 180_000)

  afterAll(async () => {
    await router?.end()
    await directoryPool?.end()
    // pg's end() resolves before the server has seen every Terminate: stopping
    // it then would end those sessions with 57P01 under the closing clients.
    if (server) {
      await vi.waitUntil(
        () =>
          withClient(server.adminUrl, async (admin) => {
            const { rows } = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [APP_ROLE.name])
            return rows[0].n === 0
          }),
        { timeout: 10_000 },
      )
      await server.stop()
    }
  }, 60_000)

  // One row per statement: the region tenant sharing the role is not joined in.
  test('--json: schema and database tenants named, pooled tenants reported together, with calls and times', async () => {
    const result = await runCli(['top', '--json', '--limit', '100', '--database-url', primaryUrl])
    expect(result.code).toBe(0)
    const { statements } = JSON.parse(result.stdout)
    expect(statements.unavailable).toBeNull()
    const find = (marker: string) => statements.statements.filter((s: { query: string }) => s.query.includes(marker))
    expect(find('schema_marker')).toEqual([
      expect.objectContaining({
        tenant: SCHEMA_TENANT,
        attribution: 'schema',
        role: 'top_tenant_s',
        database: 'top_primary',
        calls: 3,
        rows: 3,
      }),
    ])
    expect(find('silo_marker')).toEqual([
      expect.objectContaining({ tenant: DATABASE_TENANT, attribution: 'database', role: APP_ROLE.name, database: 'top_silo', calls: 3 }),
    ])
    // Two tenants, one role, one database: one row, six calls, no tenant named.
    expect(find('pooled_marker')).toEqual([
      expect.objectContaining({ tenant: null, attribution: 'shared', role: APP_ROLE.name, database: 'top_primary', calls: 6 }),
    ])
    for (const row of [...find('schema_marker'), ...find('pooled_marker')]) {
      expect(row.totalMs).toBeGreaterThan(0)
      expect(row.meanMs).toBeCloseTo(row.totalMs / row.calls)
    }
  })

  test('--once: the statements table, and why pooled tenants are not split', async () => {
    const result = await runCli(['top', '--once', '--limit', '100', '--database-url', primaryUrl])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/tenant\s+calls\s+total ms\s+mean ms\s+rows\s+query/)
    expect(result.stdout).toMatch(new RegExp(`${SCHEMA_TENANT}\\s+3\\s+[\\d.]+\\s+[\\d.]+\\s+3\\s+SELECT count\\(\\*\\) AS schema_marker`))
    expect(result.stdout).toMatch(new RegExp(`${DATABASE_TENANT}\\s+3\\s+.*silo_marker`))
    expect(result.stdout).toMatch(new RegExp(`\\(shared: ${APP_ROLE.name}\\)\\s+6\\s+.*pooled_marker`))
    expect(result.stdout).toContain('cannot be told apart')
  })
})
