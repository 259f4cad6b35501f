import { randomBytes } from 'node:crypto'
import { applyMigrations, exampleMigrations, migrations } from '@tenantscope/sql'
import { inject } from 'vitest'
import { registerWorkers } from './citus-cluster.js'
import './citus-info.js'
import { APP_ROLE, MAINTENANCE_ROLE, ROLES_SQL } from './roles.js'
import type { TestDatabase } from './test-database.js'
import { withDatabase } from './urls.js'
import { withClient } from './with-client.js'

export interface CitusTestDatabase extends TestDatabase {
  readonly coordinatorPort: number
  readonly workerPorts: readonly [number, number]
  /** Superuser URLs of this database on each worker (to look at shards). */
  readonly workerAdminUrls: readonly [string, string]
}

export interface CitusTestDatabaseOptions {
  /**
   * The example schema (tenants, users, projects, invoices) distributed by
   * tenant with tenantscope.distribute_tenant_table, colocated with tenants.
   * @default true
   */
  exampleSchema?: boolean
  /**
   * Shards per distributed table (citus.shard_count while the schema is
   * distributed). Fewer than Citus's 32 keep the fan-out queries of the
   * contract cheap on a small CI machine; routing is the same at any count.
   * @default 8
   */
  shardCount?: number
}

/**
 * A fresh database on the run's Citus cluster: created on every node (Citus
 * keeps its metadata per database), the extension in each, the workers
 * registered, tenantscope's migrations and the test roles applied on the
 * coordinator (Citus propagates roles, grants and schemas to the workers),
 * and the example schema distributed by tenant.
 */
export async function createCitusTestDatabase(options: CitusTestDatabaseOptions = {}): Promise<CitusTestDatabase> {
  const info = inject('tenantscopeCitus')
  return createCitusDatabase(info, `${info.prefix}${randomBytes(4).toString('hex')}`, options)
}

/** createCitusTestDatabase outside vitest (the benchmark): on the given cluster, under the given name. */
export async function createCitusDatabase(
  info: { coordinatorPort: number; workerPorts: readonly [number, number] },
  name: string,
  options: CitusTestDatabaseOptions = {},
): Promise<CitusTestDatabase> {
  const ports = [info.coordinatorPort, ...info.workerPorts]
  const adminOf = (port: number, database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`
  for (const port of ports) {
    await withClient(adminOf(port), (client) => client.query(`CREATE DATABASE ${name}`))
    await withClient(adminOf(port, name), (client) => client.query('CREATE EXTENSION citus'))
  }
  const adminUrl = adminOf(info.coordinatorPort, name)
  await withClient(adminUrl, async (client) => {
    await client.query('SET client_min_messages = warning')
    await registerWorkers(client, info.coordinatorPort, info.workerPorts)
    await applyMigrations(client, migrations)
    await client.query(ROLES_SQL)
    await client.query(`SET citus.shard_count = ${Math.trunc(options.shardCount ?? 8)}`)
    if (options.exampleSchema !== false) {
      await applyMigrations(client, exampleMigrations)
      await client.query(DISTRIBUTE_EXAMPLE_SQL)
    }
  })
  return {
    name,
    adminUrl,
    appUrl: withDatabase(adminUrl, name, APP_ROLE),
    maintenanceUrl: withDatabase(adminUrl, name, MAINTENANCE_ROLE),
    coordinatorPort: info.coordinatorPort,
    workerPorts: info.workerPorts,
    workerAdminUrls: [adminOf(info.workerPorts[0], name), adminOf(info.workerPorts[1], name)],
    async drop() {
      // pg.Pool#end() resolves before its sockets close: wait for the test's
      // own connections to go, or FORCE kills a closing one and its client
      // throws 57P01 outside any test (as createTestDatabase's drop does).
      await withClient(adminOf(info.coordinatorPort), async (admin) => {
        for (let waited = 0; waited < 5_000; waited += 50) {
          const { rows } = await admin.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND application_name NOT LIKE 'citus%'`,
            [name],
          )
          if (rows[0].n === 0) break
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      })
      // Workers last: the coordinator's maintenance daemon holds connections to them.
      for (const port of ports) {
        await withClient(adminOf(port), (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch(() => undefined)
      }
    },
  }
}

/**
 * The example schema as a user with an existing tenantscope schema would
 * move it to Citus: parents first, each colocated with its tenant.
 */
export const DISTRIBUTE_EXAMPLE_SQL = `
SELECT tenantscope.distribute_tenant_table('tenants', 'id');
SELECT tenantscope.distribute_tenant_table('users', colocate_with => 'tenants');
SELECT tenantscope.distribute_tenant_table('projects', colocate_with => 'tenants');
SELECT tenantscope.distribute_tenant_table('invoices', colocate_with => 'tenants');
`
