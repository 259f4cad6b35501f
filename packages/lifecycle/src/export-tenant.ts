import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { TenantIdParser } from '@tenantscope/core'
import type pg from 'pg'
import { ARCHIVE_FORMAT, dataFileName, EXPORT_BUFFER, type ManifestTable, type TenantManifest } from './archive.js'
import { archiveFileSink, warmArchiveWriter } from './archive-writer.js'
import { type CopyOutStream, copyOut } from './copy-out.js'
import { asInterrupted } from './interrupted.js'
import { TenantLifecycleError } from './lifecycle-error.js'
import type { OnProgress } from './progress.js'
import { useStableOutput } from './session-settings.js'
import { parseTenant } from './tenant-id.js'
import { type PlanOptions, planTenant } from './tenant-plan.js'

export interface ExportTenantOptions extends PlanOptions {
  /**
   * A connected client of a role that reads every tenant's rows (the
   * maintenance role, with BYPASSRLS). It is used for one read-only
   * transaction and left connected.
   */
  client: pg.ClientBase
  tenantId: string
  /** The archive's folder: created if missing; files of an earlier, interrupted export in it are replaced. */
  directory: string
  /** @default uuidTenantId */
  parseTenantId?: TenantIdParser
  onProgress?: OnProgress
}

// Migration tables of common tools: their rows say how far a schema has come.
const MIGRATION_TABLES = [
  '__drizzle_migrations',
  '_prisma_migrations',
  'knex_migrations',
  'schema_migrations',
  'kysely_migration',
  'tenantscope_migrations',
]

/**
 * Exports one tenant: every row of every table that holds its rows, in one
 * repeatable-read, read-only snapshot, streamed table by table into
 * `directory` as COPY text files, then `manifest.json` (tables in
 * foreign-key order, columns and types, row counts, SHA-256 per file, and
 * the source's migration state). The manifest is written last: a folder
 * without one is an interrupted export, and a rerun replaces it.
 */
export async function exportTenant(options: ExportTenantOptions): Promise<TenantManifest> {
  const tenantId = parseTenant(options.tenantId, options.parseTenantId)
  const { client, directory, onProgress } = options
  warmArchiveWriter()
  await mkdir(directory, { recursive: true })
  await clearArchive(directory)
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    try {
      await useStableOutput(client, tenantId)
      // COPY takes no parameters: the tenant goes into its text as a literal that the server itself quoted.
      const { rows: quoted } = await client.query<{ literal: string }>('SELECT quote_literal($1::text) AS literal', [tenantId])
      const plan = await planTenant(client, options, quoted[0]!.literal)
      const tables: ManifestTable[] = []
      for (const [index, table] of plan.tables.entries()) {
        const file = dataFileName(index, table.name)
        const sink = archiveFileSink(join(directory, file), onProgress !== undefined)
        const report = (rows: number) =>
          onProgress?.({ phase: 'export', table: table.name, index: index + 1, total: plan.tables.length, rows })
        // During a long COPY, rows so far: not awaited (the stream goes on), and never allowed to break the export.
        const tick = () => {
          try {
            void Promise.resolve(report(sink.rows())).catch(() => undefined)
          } catch {
            // a progress display that failed
          }
        }
        const ticker = onProgress ? setInterval(tick, 250) : undefined
        const copy: CopyOutStream = client.query(copyOut(`COPY (${table.select}) TO STDOUT`, EXPORT_BUFFER))
        try {
          await pipeline([copy, ...sink.streams])
        } finally {
          clearInterval(ticker)
        }
        await report(sink.rows())
        const { sha256, bytes } = sink.result()
        // The stream ended with COPY's CommandComplete: its row count is known.
        tables.push({ name: table.name, via: table.via, file, columns: table.columns, rows: copy.rowCount, bytes, sha256 })
      }
      const source = await describeSource(client)
      if (tables.every((table) => table.rows === 0)) {
        throw new TenantLifecycleError('TENANT_NOT_FOUND', 'No table holds a row of this tenant')
      }
      const manifest: TenantManifest = {
        format: ARCHIVE_FORMAT,
        tenantId,
        tenantColumn: plan.tenantColumn,
        exportedAt: new Date().toISOString(),
        source,
        tables,
      }
      await client.query('COMMIT')
      await writeFile(join(directory, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`)
      return manifest
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    }
  } catch (error) {
    throw asInterrupted(error, 'The export was interrupted; the folder holds no manifest. Run it again.')
  }
}

async function describeSource(client: pg.ClientBase): Promise<TenantManifest['source']> {
  // One round trip for the server and the migration tables present.
  const { rows } = await client.query<{ version: string; database: string; found: string[] }>(
    `SELECT version() AS version, current_database() AS database,
            ARRAY(SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE c.relkind = 'r' AND c.relname = ANY ($1::text[]) ORDER BY 1) AS found`,
    [MIGRATION_TABLES],
  )
  const migrations = []
  for (const name of rows[0]!.found) {
    // The last row written, whatever the tool calls its columns.
    const { rows: latest } = await client.query(
      `SELECT (SELECT count(*)::int FROM ${name}) AS count, (SELECT to_jsonb(m)::text FROM ${name} m ORDER BY ctid DESC LIMIT 1) AS row`,
    )
    migrations.push({ table: name, count: latest[0]!.count, latest: latest[0]!.row })
  }
  return { serverVersion: rows[0]!.version, database: rows[0]!.database, migrations }
}

// Only what an archive holds: the manifest first, so a crash in between leaves no manifest.
async function clearArchive(directory: string): Promise<void> {
  await rm(join(directory, 'manifest.json'), { force: true })
  for (const entry of await readdir(directory)) {
    if (/^\d{3}-.*\.copy$/.test(entry)) await rm(join(directory, entry), { force: true })
  }
}
