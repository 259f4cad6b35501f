import pg from 'pg'
import { formatActivity } from '../top/format-activity.js'
import { readActivity } from '../top/read-activity.js'
import { checkUrl } from './check-url.js'
import type { CliIo } from './io.js'
import { parseOptions } from './parse-options.js'
import { safeMessage } from './safe-message.js'
import { UsageError } from './usage-error.js'

export const TOP_HELP = `Usage: tenantscope top [options]

A live table of per-tenant activity from pg_stat_activity: sessions running,
waiting, idle in a transaction, the longest transaction and the top wait
event per tenant (and citus_stat_tenants on Citus). Tenants show where the
application's pool sets { activityTag: true }. Where pg_stat_statements is
installed and loaded, also the heaviest statements (calls, total and mean
time, rows): schema tenants are named by their role, database tenants by
their database; pooled tenants share a role and a database, so their
statements show together, not per tenant. Only reads.

Options:
  --database-url <url>   connection string (default: $DATABASE_URL)
  --interval <seconds>   refresh every N seconds on a terminal (default: 2)
  --once                 print one snapshot and exit
  --limit <n>            at most n tenants and n statements (default: 20)
  --json                 print one snapshot as JSON and exit
  -h, --help             show this help

Exit codes: 0 done (Ctrl+C ends the live view), 2 bad arguments or cannot connect.
`

/** @internal `live`: keep refreshing until `signal` aborts (a terminal, unless --once or --json). */
export async function topCommand(args: string[], io: CliIo, live: { tty: boolean; signal?: AbortSignal }): Promise<number> {
  const values = parseOptions(args, {
    'database-url': { type: 'string' },
    interval: { type: 'string' },
    once: { type: 'boolean' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help) {
    io.stdout(TOP_HELP)
    return 0
  }
  const interval = positive(values.interval ?? '2', '--interval')
  const limit = positive(values.limit ?? '20', '--limit')
  const url = values['database-url'] ?? io.env.DATABASE_URL
  if (!url) throw new UsageError('no database: pass --database-url <url> or set DATABASE_URL')
  checkUrl(url)
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, application_name: 'tenantscope top' })
  client.on('error', () => undefined)
  try {
    await client.connect()
  } catch (error) {
    throw new UsageError(`cannot connect to the database: ${safeMessage(error, url)}`)
  }
  try {
    const read = () =>
      readActivity(client, limit).catch((error: unknown) => {
        throw new UsageError(`reading pg_stat_activity failed: ${safeMessage(error, url)}`)
      })
    if (values.json) {
      io.stdout(`${JSON.stringify(await read(), null, 2)}\n`)
      return 0
    }
    if (values.once || !live.tty) {
      io.stdout(formatActivity(await read(), limit))
      return 0
    }
    while (!live.signal?.aborted) {
      // Clear the screen and draw again, as top does.
      io.stdout(`\x1b[2J\x1b[H${formatActivity(await read(), limit)}\nRefreshing every ${interval}s; Ctrl+C to quit.\n`)
      await sleep(interval * 1000, live.signal)
    }
    return 0
  } finally {
    await client.end().catch(() => undefined)
  }
}

function positive(text: string, option: string): number {
  const value = Number(text)
  if (!Number.isFinite(value) || value <= 0 || value > 86_400) throw new UsageError(`${option} must be a positive number`)
  return value
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
