import { finishMove, type LifecycleProgress, moveTenant, TenantLifecycleError } from '@tenantscope/lifecycle'
import { readMigrationsFolder, type TenantEntry } from '@tenantscope/router'
import pg from 'pg'
import { checkUrl } from './check-url.js'
import type { CliIo } from './io.js'
import { parseOptions } from './parse-options.js'
import { progressBar } from './progress-bar.js'
import { safeMessage } from './safe-message.js'
import { UsageError } from './usage-error.js'

export const MOVE_HELP = `Usage: tenantscope tenant move --tenant <id> --to <pool|schema|database> [options]
       tenantscope tenant move --tenant <id> --to-citus-node <host:port> [options]
       tenantscope tenant move --tenant <id> --finish [--force]

Moves a tenant to another place: freezes its writes (directory state moving:
reads go on, writes get TENANT_UNAVAILABLE) until every listening app instance
has acknowledged, exports it, imports it at the destination, verifies counts
and checksums, and switches the directory entry, which unfreezes it. The old
copy stays for the grace period; --finish erases it (verified) afterwards.
An interrupted move is put back where it was, or, if that failed too, left
frozen: run the same command again to complete it.

On Citus (--to-citus-node), a pool tenant moves to another worker node through
Citus: isolated into a shard of its own if it isn't, then the shard moved
(its writes wait meanwhile, reads go on). Rerunnable: done steps are skipped.

Destination:
  --to <strategy>            pool, schema or database
  --to-citus-node <host:port> an active Citus worker node (--database-url: the coordinator)
  --transfer-mode <mode>     Citus: block_writes (default), auto or force_logical
  --to-schema <name>         schema: the tenant's schema
  --to-role <name>           schema: its role (default: the schema name)
  --to-database <key>        database: its key, the database's name on this server
  --to-region <name>         the region (its database given by --region-url)
  --migrations <folder>      make a schema or database that does not exist yet with these
  --app-role <role>          schema: the app's login role (joins the gate role)

Options:
  --database-url <url>       the directory's database, as a role that bypasses row level
                             security and may create schemas and databases (default: $DATABASE_URL)
  --region-url <name=url>    a region's database (repeatable)
  --shared-schema <name>     the shared tables' schema (repeatable; default: public)
  --out <folder>             where the archive goes (default: a temporary folder)
  --grace <seconds>          how long the old copy is kept (default: 86400)
  --freeze-timeout <seconds> how long app instances have to acknowledge the freeze (default: 30)
  --settle <seconds>         an extra wait after the acknowledgements, for app instances whose
                             directory does not listen (their TTL plus their longest write
                             transaction); without it a move is refused (NO_LISTENERS) when
                             no app instance listens
  --finish                   erase the old copy of a switched move (refused before the grace
                             period ends, unless --force)
  --text-ids                 tenant ids are any text (default: UUIDs)
  --json                     print the receipt as JSON
`

/** @internal `tenantscope tenant move`. */
export async function moveCommand(args: string[], io: CliIo): Promise<number> {
  const values = parseOptions(args, {
    'database-url': { type: 'string' },
    'region-url': { type: 'string', multiple: true },
    'shared-schema': { type: 'string', multiple: true },
    tenant: { type: 'string' },
    to: { type: 'string' },
    'to-schema': { type: 'string' },
    'to-role': { type: 'string' },
    'to-database': { type: 'string' },
    'to-region': { type: 'string' },
    'to-citus-node': { type: 'string' },
    'transfer-mode': { type: 'string' },
    migrations: { type: 'string' },
    'app-role': { type: 'string' },
    out: { type: 'string' },
    grace: { type: 'string' },
    'freeze-timeout': { type: 'string' },
    settle: { type: 'string' },
    finish: { type: 'boolean' },
    force: { type: 'boolean' },
    'text-ids': { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help) {
    io.stdout(MOVE_HELP)
    return 0
  }
  if (!values.tenant) throw new UsageError('move needs --tenant')
  if (!values.finish && !values.to && !values['to-citus-node']) {
    throw new UsageError('move needs --to (pool, schema or database), --to-citus-node, or --finish')
  }
  if (values.to && values['to-citus-node']) throw new UsageError('pass --to or --to-citus-node, not both')
  const seconds = (name: 'grace' | 'freeze-timeout' | 'settle') => {
    const raw = values[name]
    if (raw === undefined) return undefined
    const n = Number(raw)
    if (!(Number.isFinite(n) && n >= 0)) throw new UsageError(`--${name} must be a number of seconds`)
    return n * 1000
  }
  const url = values['database-url'] ?? io.env.DATABASE_URL
  if (!url) throw new UsageError('no database: pass --database-url <url> or set DATABASE_URL')
  checkUrl(url)
  const regions = new Map<string, string>()
  for (const pair of values['region-url'] ?? []) {
    const at = pair.indexOf('=')
    if (at < 1) throw new UsageError('--region-url takes name=url')
    checkUrl(pair.slice(at + 1))
    regions.set(pair.slice(0, at), pair.slice(at + 1))
  }
  // A database tenant's database is on the directory's server; a region's is given.
  const connectionFor = (entry: TenantEntry) => {
    if (entry.strategy === 'database') {
      const target = new URL(url)
      target.pathname = `/${encodeURIComponent(entry.database!)}`
      return target.toString()
    }
    if (entry.region === undefined) return url
    const regional = regions.get(entry.region)
    if (regional === undefined) throw new TenantLifecycleError('INVALID_CONFIG', 'The tenant is in a region without --region-url')
    return regional
  }
  const admin = new pg.Pool({ connectionString: url, max: 3, application_name: 'tenantscope tenant move' })
  admin.on('error', () => undefined)
  const bar = progressBar(io.stderr, io.stderrIsTTY ?? false)
  const onProgress = (p: LifecycleProgress) =>
    bar.update({
      label: p.table,
      index: p.index,
      total: p.total,
      detail: p.totalBytes
        ? `${p.phase} ${(p.bytes! / 1048576).toFixed(1)} of ${(p.totalBytes / 1048576).toFixed(1)} MiB`
        : p.phase === 'isolate' || p.phase === 'move'
          ? p.phase
          : `${p.phase} ${p.rows.toLocaleString('en')} rows`,
    })
  const common = {
    admin,
    tenantId: values.tenant,
    connectionFor,
    onProgress,
    ...(values['shared-schema'] ? { sharedSchemas: values['shared-schema'] } : {}),
    ...(values['text-ids'] ? { parseTenantId: (raw: string) => raw } : {}),
  }
  try {
    let result: unknown
    let summary: string
    if (values.finish) {
      const finished = await finishMove({ ...common, force: values.force ?? false })
      result = finished
      summary = `Erased the old copy: ${finished.erased.rows} rows; verified: none left\n`
    } else if (values['to-citus-node']) {
      const mode = values['transfer-mode']
      const receipt = await moveTenant({
        ...common,
        to: { citusNode: values['to-citus-node'], ...(mode ? { transferMode: mode as 'block_writes' } : {}) },
      })
      result = receipt
      const moved = receipt.groups.filter((group) => group.moved).length
      summary = `${moved === 0 ? 'Already on' : 'Moved to'} ${receipt.to}: ${receipt.groups.length} colocation group(s), ${receipt.groups.filter((group) => group.isolated).length} isolated, ${moved} moved, in ${receipt.wallMillis} ms\n`
    } else {
      const to = {
        strategy: values.to as TenantEntry['strategy'],
        ...(values['to-schema'] ? { schema: values['to-schema'], role: values['to-role'] ?? values['to-schema'] } : {}),
        ...(values['to-database'] ? { database: values['to-database'] } : {}),
        ...(values['to-region'] ? { region: values['to-region'] } : {}),
      }
      const grace = seconds('grace')
      const freezeTimeout = seconds('freeze-timeout')
      const settle = seconds('settle')
      const receipt = await moveTenant({
        ...common,
        to,
        ...(values.out ? { directory: values.out } : {}),
        ...(grace !== undefined ? { graceMillis: grace } : {}),
        ...(freezeTimeout !== undefined ? { freezeTimeoutMillis: freezeTimeout } : {}),
        ...(settle !== undefined ? { settleMillis: settle } : {}),
        ...(values.migrations
          ? {
              provision: {
                migrations: await readMigrationsFolder(values.migrations),
                ...(values['app-role'] ? { appRole: values['app-role'] } : {}),
              },
            }
          : {}),
      })
      result = receipt
      summary = `Moved ${receipt.rows} rows in ${receipt.tables.length} tables to ${to.strategy}${receipt.resumed ? ' (completing an interrupted move)' : ''}; counts and checksums verified; writes frozen for ${receipt.frozenMillis} ms; the old copy is kept until ${receipt.eraseAfter} (then: tenantscope tenant move --tenant <id> --finish)\n`
    }
    bar.done()
    io.stdout(values.json ? `${JSON.stringify(result, null, 2)}\n` : summary)
    return 0
  } catch (error) {
    bar.done()
    if (!TenantLifecycleError.is(error)) throw new UsageError(`tenant move failed: ${safeMessage(error, url)}`)
    io.stderr(`tenantscope tenant move: ${error.code}: ${error.message}\n`)
    return 1
  } finally {
    await admin.end().catch(() => undefined)
  }
}
