import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import PgBoss from 'pg-boss'
import { createApp } from './app.js'
import { createDatabase } from './db.js'
import { REPORT_QUEUE } from './routes/reports.js'

export interface ApiOptions {
  /** The application role's connection string: NOT a superuser or BYPASSRLS role. */
  databaseUrl: string
  /** Where pg-boss keeps its queue (its own schema); enables /reports. */
  queueUrl?: string
  jwtSecret: string
  issuer?: string
  /**
   * The connection string of a database tenant's database, from its
   * directory key (credentials never live in the directory).
   * @default the databaseUrl's login on the database named by the key
   */
  tenantDatabaseUrl?: (database: string) => string | Promise<string>
  port?: number
  host?: string
  log?: (error: unknown) => void
}

export interface RunningApi {
  url: string
  server: Server
  close(): Promise<void>
}

/** Starts the API; `port: 0` picks a free port. */
export async function startApi(options: ApiOptions): Promise<RunningApi> {
  const { db, router } = await createDatabase(options.databaseUrl, {
    onError: (error) => (options.log ?? console.error)(error),
    ...(options.tenantDatabaseUrl ? { tenantDatabaseUrl: options.tenantDatabaseUrl } : {}),
  })
  let boss: PgBoss | undefined
  if (options.queueUrl) {
    boss = new PgBoss({
      connectionString: options.queueUrl,
      max: 2,
      supervise: false,
      schedule: false,
      application_name: 'tenantscope-example-api-queue',
    })
    boss.on('error', (error) => (options.log ?? console.error)(error))
    await boss.start().catch(async (error) => {
      await router.end()
      throw error
    })
    await boss.createQueue(REPORT_QUEUE)
  }
  const app = createApp({ db, router, jwtSecret: options.jwtSecret, issuer: options.issuer, boss, log: options.log })
  const server = createServer(app)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 3000, options.host ?? '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    server,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await boss?.stop({ graceful: false, wait: true })
      await router.end()
    },
  }
}
