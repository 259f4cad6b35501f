import { execFileSync, spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { chmod, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { delimiter, join } from 'node:path'
import { freePort } from './free-port.js'
import { APP_ROLE, MAINTENANCE_ROLE } from './roles.js'
import { throughLocalPort } from './urls.js'

export interface PgBouncer {
  readonly port: number
  /** `url` (any database and login on the same server) pointed at this PgBouncer. */
  url(url: string): string
  /** What PgBouncer logged so far. */
  log(): Promise<string>
  stop(): Promise<void>
}

export interface PgBouncerOptions {
  /** Server connections per database and user. @default 1 */
  poolSize?: number
  /** @default 'transaction' */
  poolMode?: 'transaction' | 'session'
}

/** The pgbouncer executable on PATH or in the sbin directories Debian uses, or undefined. */
export function findPgBouncer(): string | undefined {
  const directories = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin']
  for (const directory of directories) {
    if (!directory) continue
    const candidate = join(directory, 'pgbouncer')
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

/** Where startPgBouncerWithIni puts things, for the ini to name. */
export interface PgBouncerSetup {
  /** The free port to listen on. */
  readonly port: number
  /** host and port of the server behind `adminUrl`. */
  readonly serverHost: string
  readonly serverPort: string
  /** The auth_file: the admin's and the test roles' passwords. */
  readonly authFile: string
  readonly logFile: string
  readonly pidFile: string
}

/**
 * Starts a real PgBouncer in front of the server of `adminUrl`, on a free
 * port, with a generated ini: any database name is passed through, clients
 * are not authenticated (trust), and PgBouncer logs in to PostgreSQL with the
 * passwords of the admin and the test roles from its auth_file, so it works
 * against a trust-auth server and a password-auth one (embedded PostgreSQL)
 * alike. PgBouncer refuses to run as root: as root it runs as `postgres`.
 */
export async function startPgBouncer(adminUrl: string, options: PgBouncerOptions = {}): Promise<PgBouncer> {
  return startPgBouncerWithIni(adminUrl, (setup) =>
    [
      '[databases]',
      `* = host=${setup.serverHost} port=${setup.serverPort}`,
      '',
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${setup.port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${setup.authFile}`,
      `pool_mode = ${options.poolMode ?? 'transaction'}`,
      `default_pool_size = ${options.poolSize ?? 1}`,
      'min_pool_size = 0',
      'reserve_pool_size = 0',
      'max_client_conn = 500',
      'max_db_connections = 0',
      'ignore_startup_parameters = extra_float_digits',
      `logfile = ${setup.logFile}`,
      `pidfile = ${setup.pidFile}`,
      '',
    ].join('\n'),
  )
}

/**
 * Starts PgBouncer with the ini that `ini` writes for the given setup (a
 * free port, an auth_file holding the admin's and the test roles' plain
 * passwords, log and pid files), e.g. the shipped sql/pgbouncer.ini with its
 * site-specific lines replaced.
 */
export async function startPgBouncerWithIni(adminUrl: string, ini: (setup: PgBouncerSetup) => string): Promise<PgBouncer> {
  const binary = findPgBouncer()
  if (!binary) throw new Error('pgbouncer is not installed (Debian: apt-get install pgbouncer)')
  const server = new URL(adminUrl)
  const port = await freePort()
  const directory = await mkdtemp(join(tmpdir(), 'tenantscope-pgbouncer-'))
  const admin = { name: decodeURIComponent(server.username || 'postgres'), password: decodeURIComponent(server.password) }
  const users = [admin, APP_ROLE, MAINTENANCE_ROLE]
  const quote = (value: string) => `"${value.replace(/"/g, '""')}"`
  await writeFile(join(directory, 'userlist.txt'), users.map((user) => `${quote(user.name)} ${quote(user.password)}\n`).join(''))
  const setup: PgBouncerSetup = {
    port,
    serverHost: server.hostname,
    serverPort: server.port || '5432',
    authFile: join(directory, 'userlist.txt'),
    logFile: join(directory, 'pgbouncer.log'),
    pidFile: join(directory, 'pgbouncer.pid'),
  }
  const iniPath = join(directory, 'pgbouncer.ini')
  await writeFile(iniPath, ini(setup))

  let uid: number | undefined
  let gid: number | undefined
  if (userInfo().uid === 0) {
    try {
      uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim())
      gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim())
    } catch {
      throw new Error('pgbouncer refuses to run as root and there is no `postgres` user to run it as')
    }
    for (const file of ['', 'userlist.txt', 'pgbouncer.ini']) await chown(join(directory, file), uid, gid)
    await chmod(directory, 0o700)
  }

  const child = spawn(binary, [iniPath], { stdio: ['ignore', 'ignore', 'pipe'], uid, gid })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  let exited = false
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())))
  const readLog = async () => `${await readFile(join(directory, 'pgbouncer.log'), 'utf8').catch(() => '')}${stderr}`

  const deadline = Date.now() + 15_000
  while (!(await listening(port))) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL')
      const output = await readLog()
      await rm(directory, { recursive: true, force: true })
      throw new Error(`pgbouncer did not start:\n${output.slice(-3000)}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }

  return {
    port,
    url: (url) => throughLocalPort(url, port),
    log: readLog,
    async stop() {
      // SIGTERM: immediate shutdown, clients are disconnected.
      if (!exited) child.kill('SIGTERM')
      await exit
      await rm(directory, { recursive: true, force: true })
    },
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => (socket.destroy(), resolve(true)))
    socket.once('error', () => resolve(false))
  })
}
