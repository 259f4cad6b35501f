import { randomBytes } from 'node:crypto'
import {
  APP_ROLE,
  createTemplate,
  dropDatabases,
  MAINTENANCE_ROLE,
  type PostgresServer,
  resolveServer,
  withClient,
  withDatabase,
} from '@tenantscope/test-harness'

export interface BenchDatabases {
  readonly server: PostgresServer
  readonly version: string
  /** A fresh database with tenantscope's migrations and the example schema. */
  create(label: string): Promise<BenchDatabase>
  close(): Promise<void>
}

export interface BenchDatabase {
  readonly name: string
  readonly adminUrl: string
  /** Not superuser, not BYPASSRLS, owns nothing: RLS applies. */
  readonly appUrl: string
  /** BYPASSRLS: the raw baseline. */
  readonly maintenanceUrl: string
}

/**
 * The PostgreSQL the bench runs on: TEST_DATABASE_URL or DATABASE_URL when
 * set, else what the test harness would pick (Testcontainers, then embedded
 * PostgreSQL). Every database it creates is dropped by close().
 */
export async function openDatabases(log: (line: string) => void): Promise<BenchDatabases> {
  const server = await resolveServer(log)
  const prefix = `tenantscope_bench_${process.pid}_${randomBytes(3).toString('hex')}_`
  try {
    await createTemplate(server.adminUrl, `${prefix}template`)
  } catch (error) {
    await server.stop()
    throw error
  }
  const version = await withClient(
    server.adminUrl,
    async (client) => (await client.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v,
  )
  return {
    server,
    version,
    async create(label) {
      const name = `${prefix}${label}`
      await withClient(server.adminUrl, (admin) => admin.query(`CREATE DATABASE ${name} TEMPLATE ${prefix}template`))
      return {
        name,
        adminUrl: withDatabase(server.adminUrl, name),
        appUrl: withDatabase(server.adminUrl, name, APP_ROLE),
        maintenanceUrl: withDatabase(server.adminUrl, name, MAINTENANCE_ROLE),
      }
    },
    async close() {
      await dropDatabases(server.adminUrl, prefix).catch((error) => log(`cleanup failed: ${String(error)}`))
      await server.stop()
    },
  }
}
