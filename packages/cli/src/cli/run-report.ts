import { type DoctorConnection, DoctorError, type DoctorOptions, type DoctorReport, runDoctor } from '@tenantscope/doctor'
import pg from 'pg'
import { checkUrl } from './check-url.js'
import { safeMessage } from './safe-message.js'
import { UsageError } from './usage-error.js'

/** @internal The options `doctor` and `diff` share, as parseArgs takes them. */
export const DOCTOR_OPTIONS = {
  role: { type: 'string' },
  'tenant-column': { type: 'string' },
  setting: { type: 'string' },
  schema: { type: 'string', multiple: true },
  table: { type: 'string', multiple: true },
} as const

/** @internal */
export function doctorOptionsOf(values: {
  role?: string | undefined
  'tenant-column'?: string | undefined
  setting?: string | undefined
  schema?: string[] | undefined
  table?: string[] | undefined
}): Omit<DoctorOptions, 'otherDatabases'> {
  return { role: values.role, tenantColumn: values['tenant-column'], setting: values.setting, schemas: values.schema, tables: values.table }
}

/**
 * @internal Connects to `url`, runs the doctor, disconnects. Cannot connect, or the doctor refuses: a
 * UsageError (exit 2) that never repeats the URL.
 */
export async function reportFor(
  url: string,
  options: Omit<DoctorOptions, 'otherDatabases'> & { otherDatabases: boolean | readonly string[] },
): Promise<DoctorReport> {
  checkUrl(url)
  const client = await open(url)
  try {
    const connect = (database: string) => open(withDatabase(url, database))
    const only = Array.isArray(options.otherDatabases) ? options.otherDatabases : undefined
    const otherDatabases = options.otherDatabases === false ? undefined : { connect, ...(only ? { only } : {}) }
    return await runDoctor(client, { ...options, otherDatabases })
  } catch (error) {
    throw new UsageError(DoctorError.is(error) ? error.message : `reading the catalog failed: ${safeMessage(error, url)}`)
  } finally {
    await client.end().catch(() => undefined)
  }
}

async function open(url: string): Promise<DoctorConnection> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, application_name: 'tenantscope doctor' })
  // A dropped connection emits 'error' on the client; the pending query reports it.
  client.on('error', () => undefined)
  try {
    await client.connect()
  } catch (error) {
    await client.end().catch(() => undefined)
    throw new UsageError(`cannot connect to the database: ${safeMessage(error, url)}`)
  }
  return client
}

// The same server and credentials, another database.
function withDatabase(url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${encodeURIComponent(database)}`
  return parsed.toString()
}
