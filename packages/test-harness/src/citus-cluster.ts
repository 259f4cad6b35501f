import { execFile, execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { appendFile, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from './free-port.js'
import { withClient } from './with-client.js'

const run = promisify(execFile)

/** Where the PostgreSQL 15 server binaries live (Citus 13.2 is the line for PostgreSQL 15). */
export const CITUS_PGBIN = process.env.TENANTSCOPE_CITUS_PGBIN ?? '/usr/lib/postgresql/15/bin'

export interface CitusNode {
  readonly name: 'coordinator' | 'worker1' | 'worker2'
  readonly port: number
  /** Superuser URL of this node's `postgres` database. */
  readonly adminUrl: string
}

export interface CitusCluster {
  readonly source: 'local-binaries'
  readonly coordinator: CitusNode
  readonly workers: readonly [CitusNode, CitusNode]
  readonly citusVersion: string
  stop(): Promise<void>
}

/**
 * Why no cluster can start here, or undefined when one can. Checked before
 * anything is written, so a user's machine without Citus gets a sentence, not
 * a stack trace from initdb.
 */
export function citusUnavailableReason(pgBin = CITUS_PGBIN): string | undefined {
  if (!existsSync(join(pgBin, 'postgres')) || !existsSync(join(pgBin, 'pg_config'))) {
    return `no PostgreSQL server binaries in ${pgBin} (set TENANTSCOPE_CITUS_PGBIN)`
  }
  let pkglibdir: string
  try {
    pkglibdir = execFileSync(join(pgBin, 'pg_config'), ['--pkglibdir'], { encoding: 'utf8' }).trim()
  } catch (error) {
    return `pg_config in ${pgBin} failed: ${String(error)}`
  }
  if (!existsSync(join(pkglibdir, 'citus.so'))) {
    return `Citus is not installed for ${pgBin} (no citus.so in ${pkglibdir}); run \`sudo bash ../shared/citus/install.sh\``
  }
  const uid = userInfo().uid
  if (uid === 0 && !osUserExists('postgres')) return 'running as root and there is no `postgres` OS user to run the servers as'
  return undefined
}

/**
 * A coordinator and two workers from the local PostgreSQL binaries with
 * `shared_preload_libraries = 'citus'`: each node its own initdb'd data
 * directory and free port under one temporary directory, run as the
 * `postgres` OS user when we are root (PostgreSQL refuses root). The workers
 * are registered with the coordinator in the `postgres` database; each test
 * database registers them again (Citus metadata is per database, see
 * createCitusDatabase). Whatever was started is stopped and removed again if
 * a step fails.
 */
export async function startCitusCluster(log: (line: string) => void, pgBin = CITUS_PGBIN): Promise<CitusCluster> {
  const reason = citusUnavailableReason(pgBin)
  if (reason) throw new Error(`cannot start a Citus cluster: ${reason}`)
  const started = Date.now()
  const dir = await mkdtemp(join(tmpdir(), 'tenantscope-citus-'))
  const owner = userInfo().uid === 0 ? osUser('postgres') : undefined
  const names = ['coordinator', 'worker1', 'worker2'] as const
  const running: string[] = []

  const stopAll = async () => {
    for (const dataDir of running.splice(0).reverse()) {
      await asPostgres(owner, join(pgBin, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined)
    }
    await rm(dir, { recursive: true, force: true })
  }
  // A run that dies without its teardown must not leave three servers behind.
  const onExit = () => {
    for (const dataDir of running) {
      try {
        execFileSync(...postgresCommand(owner, join(pgBin, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', 'stop']), { stdio: 'ignore' })
      } catch {
        // already gone
      }
    }
  }
  process.once('exit', onExit)

  try {
    const sock = join(dir, 'sock')
    await mkdir(sock, { mode: 0o700 })
    if (owner) {
      await chown(dir, owner.uid, owner.gid)
      await chown(sock, owner.uid, owner.gid)
    }
    const ports = [await freePort(), await freePort(), await freePort()]
    if (new Set(ports).size !== 3) throw new Error('freePort returned the same port twice')
    const decoding = (await hasSetting(owner, pgBin, 'output_plugin_libraries'))
      ? "output_plugin_libraries = 'pgoutput, test_decoding, citus'"
      : ''

    await Promise.all(
      names.map(async (name, i) => {
        const dataDir = join(dir, name)
        await asPostgres(owner, join(pgBin, 'initdb'), [
          '-D',
          dataDir,
          '-U',
          'postgres',
          '-E',
          'UTF8',
          '--locale=C.UTF-8',
          '--no-sync',
          '--auth-local=peer',
          '--auth-host=trust',
          '--no-instructions',
        ])
        await writeFile(
          join(dataDir, 'pg_hba.conf'),
          'local all all peer\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n',
        )
        await appendFile(
          join(dataDir, 'postgresql.conf'),
          [
            '',
            `# tenantscope test harness: Citus ${name}`,
            `port = ${ports[i]}`,
            "listen_addresses = '127.0.0.1'",
            `unix_socket_directories = '${sock}'`,
            "shared_preload_libraries = 'citus'",
            // Shard moves and tenant isolation copy through logical replication.
            'wal_level = logical',
            'max_replication_slots = 20',
            'max_wal_senders = 20',
            'max_connections = 300',
            'fsync = off',
            'full_page_writes = off',
            'synchronous_commit = off',
            // Per-tenant statistics (citus_stat_tenants) for routed queries.
            "citus.stat_tenants_track = 'all'",
            `log_line_prefix = '%m [%p] ${name} %q%u@%d '`,
            decoding,
            '',
          ].join('\n'),
        )
      }),
    )
    for (const name of names) {
      const dataDir = join(dir, name)
      try {
        await asPostgres(owner, join(pgBin, 'pg_ctl'), ['-D', dataDir, '-l', join(dir, `${name}.log`), '-w', '-t', '60', 'start'])
      } catch (error) {
        throw new Error(`Citus ${name} did not start (log in ${dir}/${name}.log): ${String(error)}`)
      }
      running.push(dataDir)
    }

    const url = (port: number) => `postgres://postgres@127.0.0.1:${port}/postgres`
    const nodes = names.map((name, i) => ({ name, port: ports[i]!, adminUrl: url(ports[i]!) })) as [CitusNode, CitusNode, CitusNode]
    for (const node of nodes) await withClient(node.adminUrl, (client) => client.query('CREATE EXTENSION IF NOT EXISTS citus'))
    const citusVersion = await withClient(nodes[0].adminUrl, async (client) => {
      await registerWorkers(client, nodes[0].port, [nodes[1].port, nodes[2].port])
      const { rows } = await client.query<{ v: string }>(`SELECT extversion AS v FROM pg_extension WHERE extname = 'citus'`)
      return rows[0]!.v
    })
    log(
      `Citus ${citusVersion} cluster up in ${((Date.now() - started) / 1000).toFixed(1)} s: coordinator ${ports[0]}, workers ${ports[1]} ${ports[2]}`,
    )
    return {
      source: 'local-binaries',
      coordinator: nodes[0],
      workers: [nodes[1], nodes[2]],
      citusVersion,
      async stop() {
        process.off('exit', onExit)
        await stopAll()
      },
    }
  } catch (error) {
    process.off('exit', onExit)
    await stopAll()
    throw error
  }
}

/** @internal Registers the coordinator and the workers in the current database. */
export async function registerWorkers(
  client: { query(text: string, values?: unknown[]): Promise<unknown> },
  coordinatorPort: number,
  workerPorts: readonly number[],
): Promise<void> {
  await client.query(`SELECT citus_set_coordinator_host('127.0.0.1', $1)`, [coordinatorPort])
  for (const port of workerPorts) await client.query(`SELECT citus_add_node('127.0.0.1', $1)`, [port])
}

interface OsUser {
  uid: number
  gid: number
}

function osUserExists(name: string): boolean {
  try {
    osUser(name)
    return true
  } catch {
    return false
  }
}

function osUser(name: string): OsUser {
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim())
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim())
  return { uid, gid }
}

function postgresCommand(owner: OsUser | undefined, file: string, args: string[]): [string, string[]] {
  return owner ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args]
}

async function asPostgres(owner: OsUser | undefined, file: string, args: string[]): Promise<string> {
  const [command, argv] = postgresCommand(owner, file, args)
  try {
    const { stdout } = await run(command, argv, { encoding: 'utf8' })
    return stdout
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string }
    throw new Error(`${file.split('/').pop()} ${args.join(' ')} failed: ${stderr || stdout || String(error)}`)
  }
}

// PostgreSQL ≥ 15.19 lists the logical decoding plugins it accepts; Citus's
// shard split (isolate_tenant_to_new_shard) decodes with one named "citus".
async function hasSetting(owner: OsUser | undefined, pgBin: string, name: string): Promise<boolean> {
  const out = await asPostgres(owner, join(pgBin, 'postgres'), ['--describe-config']).catch(() => '')
  return out.split('\n').some((line) => line.startsWith(`${name}\t`))
}
