import { randomUUID } from 'node:crypto'
import { TenantScopeError } from '@tenantscope/core'
import pg from 'pg'
import type { TenantEntry } from './directory-entry.js'
import { ENTRY_VERSION, TenantDirectory, type TenantDirectoryOptions } from './tenant-directory.js'

/** The channel sql/0007_tenant_directory.sql notifies on every change (payload: the tenant id). */
export const DIRECTORY_CHANNEL = 'tenantscope_directory'

/**
 * The channel a listening directory acknowledges each change on, once it
 * has looked the entry up again and its routers have finished the writable
 * statements routed by the old entry. Payload: JSON `{ instance, tenant,
 * state, version }`, the state as looked up after the change and the
 * version of the row it read (`updated_at` as epoch microseconds, text):
 * a mover counts only acknowledgements of its own freeze. A tenant mover waits
 * for the acknowledgement of every listening instance (their listeners'
 * application_name is `tenantscope-directory:<instance>`, the same across
 * reconnects).
 */
export const DIRECTORY_ACK_CHANNEL = 'tenantscope_directory_ack'

/** The application_name prefix of a directory's listening connection. */
export const LISTENER_APPLICATION_NAME = 'tenantscope-directory'

export interface TableDirectoryOptions extends TenantDirectoryOptions {
  /**
   * Listen for changes (LISTEN tenantscope_directory) on a connection of its
   * own, opened from this config, so every app instance drops a changed entry
   * at once. Without it, changes are seen when the TTL runs out. While that
   * connection is down (it reconnects with a growing delay), no entry is
   * kept: every statement looks its tenant up.
   * @example { listen: { connectionString: process.env.DATABASE_URL } }
   */
  listen?: string | pg.ClientConfig
}

interface DirectoryRow {
  tenant_id: string
  strategy: TenantEntry['strategy']
  schema_name: string | null
  role_name: string | null
  database_key: string | null
  region: string | null
  state: TenantEntry['state']
  version?: string
}

/** @internal The row's version, as a mover reads it too: `updated_at` in epoch microseconds, as text. */
export const ENTRY_VERSION_SQL = `(extract(epoch FROM updated_at) * 1000000)::int8::text`

const SELECT_ENTRY = `SELECT tenant_id, strategy, schema_name, role_name, database_key, region, state, ${ENTRY_VERSION_SQL} AS version
  FROM tenantscope.tenant_directory WHERE tenant_id = $1`

/** @internal */
export function entryFromRow(row: DirectoryRow): TenantEntry {
  return {
    tenantId: row.tenant_id,
    strategy: row.strategy,
    schema: row.schema_name ?? undefined,
    role: row.role_name ?? undefined,
    database: row.database_key ?? undefined,
    region: row.region ?? undefined,
    state: row.state,
  }
}

/**
 * The directory kept in `tenantscope.tenant_directory` (sql/0007), read
 * through `pool` (an unscoped pg.Pool: the app role may read the table).
 * @example const directory = await createTableDirectory(systemPool, { listen: process.env.DATABASE_URL })
 */
export async function createTableDirectory(pool: pg.Pool, options: TableDirectoryOptions = {}): Promise<TenantDirectory> {
  const directory = new TenantDirectory(async (tenantId) => {
    const { rows } = await pool.query<DirectoryRow>(SELECT_ENTRY, [tenantId])
    if (rows[0] === undefined) return undefined
    // Not enumerable: the entry the directory keeps is a copy without it.
    return Object.defineProperty(entryFromRow(rows[0]), ENTRY_VERSION, { value: rows[0].version })
  }, options)
  if (options.listen !== undefined) await listen(directory, options.listen)
  return directory
}

// One connection that only listens. When it drops, every entry is dropped
// (a change may have been missed) and it reconnects with a growing delay.
async function listen(directory: TenantDirectory, config: string | pg.ClientConfig): Promise<void> {
  let closed = false
  let client: pg.Client | undefined
  let timer: NodeJS.Timeout | undefined
  let delay = 100
  const instance = randomUUID()

  // Acknowledged on the listening connection itself; a lost one is not retried (the mover times out).
  const acknowledge = (via: pg.Client, tenantId: string) => {
    directory
      .settle(tenantId)
      .then((entry) => {
        if (closed || client !== via) return
        const version = directory.versionOf(entry) ?? null
        const payload = JSON.stringify({ instance, tenant: tenantId, state: entry?.state ?? null, version })
        return via.query('SELECT pg_notify($1, $2)', [DIRECTORY_ACK_CHANNEL, payload])
      })
      .catch(() => undefined)
  }

  const connect = async (): Promise<void> => {
    const base = typeof config === 'string' ? { connectionString: config } : config
    const next = new pg.Client({ ...base, application_name: `${LISTENER_APPLICATION_NAME}:${instance}` })
    next.on('notification', (message) => {
      if (message.channel !== DIRECTORY_CHANNEL) return
      directory.invalidate(message.payload || undefined)
      if (message.payload) acknowledge(next, message.payload)
    })
    next.on('error', () => lost(next))
    next.on('end', () => lost(next))
    try {
      await next.connect()
      await next.query(`LISTEN ${DIRECTORY_CHANNEL}`)
    } catch (error) {
      await next.end().catch(() => undefined)
      throw error
    }
    client = next
    delay = 100
    // What changed while nobody listened is dropped; entries are kept again.
    directory.suspendCache(false)
  }

  const lost = (which: pg.Client) => {
    if (closed || client !== which) return
    client = undefined
    directory.suspendCache(true)
    which.end().catch(() => undefined)
    retry()
  }

  const retry = () => {
    timer = setTimeout(() => {
      connect().catch(() => {
        delay = Math.min(delay * 2, 10_000)
        if (!closed) retry()
      })
    }, delay)
    timer.unref()
  }

  try {
    await connect()
  } catch (error) {
    throw new TenantScopeError('INVALID_CONFIG', 'Could not listen for tenant directory changes', { cause: error })
  }
  directory.onClose(async () => {
    closed = true
    if (timer) clearTimeout(timer)
    await client?.end().catch(() => undefined)
  })
}
