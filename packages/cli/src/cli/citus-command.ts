import pg from 'pg'
import { auditCitus, formatCitusFindings } from '../citus/citus-audit.js'
import { CitusAdminError } from '../citus/citus-error.js'
import { type ShardTransferMode, TRANSFER_MODES } from '../citus/citus-queryable.js'
import { isolateTenant } from '../citus/isolate-tenant.js'
import { moveTenant } from '../citus/move-tenant.js'
import type { TenantShard } from '../citus/tenant-shard.js'
import { formatTenantStats, readTenantStats } from '../citus/tenant-stats.js'
import type { CliIo } from './io.js'
import { parseOptions } from './parse-options.js'
import { safeMessage } from './safe-message.js'
import { UsageError } from './usage-error.js'

export const CITUS_HELP = `Usage: tenantscope citus <isolate|move|stats|check> [options]

Tenant placement and statistics on a Citus coordinator. Connect as a role that
may move shards (the tables' owner or a superuser), not as the application.

Commands:
  isolate   give a tenant a shard of its own (isolate_tenant_to_new_shard, CASCADE)
  move      move the tenant's shard, and its colocated shards, to another worker
            (citus_move_shard_placement); isolate first to move only that tenant
  stats     queries and CPU per tenant (citus_stat_tenants; routed queries only)
  check     tenant tables not distributed by the tenant column, not colocated, or
            reference tables with tenant rows (tenantscope.citus_audit); exit 1 on findings

Options:
  --database-url <url>      connection string of the coordinator (default: $DATABASE_URL)
  --table <name>            isolate, move: a distributed tenant table, e.g. projects
  --tenant <id>             isolate, move: the tenant id (its distribution column value)
  --to <host:port>          move: the target worker (default: the other worker with fewest shards)
  --transfer-mode <mode>    isolate, move: block_writes (default; writes wait, nothing is refused),
                            auto or force_logical (need logical replication)
  --limit <n>               stats: at most n tenants (default 20)
  --tenant-column <name>    check: the tenant column (default tenant_id)
  --json                    print the result as JSON
  -h, --help                show this help

Examples:
  tenantscope citus isolate --table projects --tenant 3f1c...
  tenantscope citus move --table projects --tenant 3f1c... --to 10.0.0.12:5432
  tenantscope citus stats --json
`

/** @internal */
export async function citusCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args
  const values = parseOptions(rest, {
    'database-url': { type: 'string' },
    table: { type: 'string' },
    tenant: { type: 'string' },
    to: { type: 'string' },
    'transfer-mode': { type: 'string' },
    limit: { type: 'string' },
    'tenant-column': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help || sub === undefined || sub === '--help' || sub === '-h') {
    io.stdout(CITUS_HELP)
    return sub === undefined ? 2 : 0
  }
  if (sub !== 'isolate' && sub !== 'move' && sub !== 'stats' && sub !== 'check') {
    throw new UsageError(`unknown citus command ${JSON.stringify(sub.slice(0, 40))} (expected isolate, move, stats or check)`)
  }
  const url = values['database-url'] ?? io.env.DATABASE_URL
  if (!url) throw new UsageError('no database: pass --database-url <url> or set DATABASE_URL')
  if (!/^postgres(ql)?:\/\//i.test(url)) throw new UsageError('the database URL must start with postgres:// or postgresql://')
  const mode = (values['transfer-mode'] ?? 'block_writes') as ShardTransferMode
  if (!TRANSFER_MODES.includes(mode)) throw new UsageError(`--transfer-mode must be one of ${TRANSFER_MODES.join(', ')}`)
  const limit = values.limit === undefined ? 20 : Number(values.limit)
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer')
  const to = values.to === undefined ? undefined : parseNode(values.to)
  if ((sub === 'isolate' || sub === 'move') && (!values.table || !values.tenant)) {
    throw new UsageError(`citus ${sub} needs --table <name> and --tenant <id>`)
  }

  // Two connections: a move holds one, progress is read on the other.
  const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 10_000, application_name: `tenantscope citus ${sub}` })
  pool.on('error', () => undefined)
  try {
    await pool.query('SELECT 1').catch((error: unknown) => {
      throw new UsageError(`cannot connect to the database: ${safeMessage(error, url)}`)
    })
    if (sub === 'stats') {
      const stats = await readTenantStats(pool, { limit })
      io.stdout(values.json ? `${JSON.stringify(stats, null, 2)}\n` : formatTenantStats(stats))
      return 0
    }
    if (sub === 'check') {
      const findings = await auditCitus(pool, { tenantColumn: values['tenant-column'] })
      io.stdout(values.json ? `${JSON.stringify(findings, null, 2)}\n` : formatCitusFindings(findings))
      return findings.length > 0 ? 1 : 0
    }
    const table = values.table!
    const tenant = values.tenant!
    if (sub === 'isolate') {
      const result = await isolateTenant(pool, table, tenant, { transferMode: mode })
      const text = `${result.changed ? 'isolated' : 'already isolated'}: ${describe(result.shard)}\n`
      io.stdout(values.json ? `${JSON.stringify(result, null, 2)}\n` : text)
      return 0
    }
    const result = await moveTenant(pool, table, tenant, {
      to,
      transferMode: mode,
      progressDb: pool,
      // Progress goes to stderr, so that stdout (and --json) stay the result.
      onProgress: (p) => {
        const copied = `${formatBytes(p.targetBytes)} of ${formatBytes(p.sourceBytes)}`
        io.stderr(`moving shard ${p.shardId}: ${copied} (${(p.elapsedMs / 1000).toFixed(0)} s)\n`)
      },
    })
    io.stdout(
      values.json
        ? `${JSON.stringify(result, null, 2)}\n`
        : result.changed
          ? `moved: ${describe(result.from)} -> ${result.to.nodeName}:${result.to.nodePort}\n`
          : `already there: ${describe(result.from)}\n`,
    )
    return 0
  } catch (error) {
    if (error instanceof UsageError) throw error
    throw new UsageError(CitusAdminError.is(error) ? error.message : `citus ${sub} failed: ${safeMessage(error, url)}`)
  } finally {
    await pool.end().catch(() => undefined)
  }
}

function parseNode(value: string): { host: string; port: number } {
  const match = /^(.+):(\d{1,5})$/.exec(value)
  if (!match) throw new UsageError('--to must be host:port')
  return { host: match[1]!, port: Number(match[2]) }
}

function describe(shard: TenantShard): string {
  const only = shard.isolated ? ' (this tenant only)' : ''
  return `shard ${shard.shardId} on ${shard.nodeName}:${shard.nodePort}${only}, with ${shard.colocatedTables.join(', ')}`
}

function formatBytes(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MB` : `${Math.round(bytes / 1024)} kB`
}
