import { createReadStream } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { TenantIdParser } from '@tenantscope/core'
import type pg from 'pg'
import { from as copyFrom, to as copyTo } from 'pg-copy-streams'
import { CopyDigest, type ManifestTable, type TenantManifest } from './archive.js'
import { deleteTenantRows } from './delete-rows.js'
import { asInterrupted } from './interrupted.js'
import { TenantLifecycleError } from './lifecycle-error.js'
import type { OnProgress } from './progress.js'
import { readArchive } from './read-archive.js'
import { useStableOutput } from './session-settings.js'
import { parseTenant } from './tenant-id.js'
import { ident, type PlannedTable, planTenant } from './tenant-plan.js'

export interface ImportTenantOptions {
  /** A connected client of a role that may write every tenant's rows (the maintenance role, or the owner). */
  client: pg.ClientBase
  /** The archive's folder, as exportTenant wrote it. */
  directory: string
  /** Replace the tenant's rows if the target already holds some (they are deleted in the same transaction). @default false */
  replace?: boolean
  /** @default uuidTenantId */
  parseTenantId?: TenantIdParser
  /** Only tables in these schemas of the target. */
  schemas?: readonly string[]
  /**
   * Every archived table goes to the table of the same name in this schema
   * (an archive of one schema restored into another: a tenant moved between
   * the shared schema and a schema of its own). Implies `schemas: [intoSchema]`.
   */
  intoSchema?: string
  onProgress?: OnProgress
}

export interface ImportReceipt {
  tenantId: string
  tables: { name: string; rows: number }[]
  /** Rows of the tenant the target held before, deleted because `replace` was set. */
  replacedRows: number
  /** Every table's count and checksum matched the archive after the import. */
  verified: true
}

/**
 * Restores a tenant from an archive, all or nothing, in one transaction:
 * checks the archive's checksums and the target's tables and columns before
 * writing anything, refuses a target that already holds the tenant unless
 * `replace`, loads the tables parents first with COPY, moves owned
 * sequences (serial, identity) past the imported values, then reads every
 * table back and compares counts and checksums with the archive before it
 * commits. A failure anywhere, a lost connection included, rolls it all back.
 */
export async function importTenant(options: ImportTenantOptions): Promise<ImportReceipt> {
  const { client, directory, onProgress } = options
  const manifest = await readArchive(directory)
  const tenantId = parseTenant(manifest.tenantId, options.parseTenantId)
  const into = options.intoSchema
  const target = (name: string) => (into === undefined ? name : inSchema(name, into))
  const schemas = into === undefined ? options.schemas : [into]
  try {
    await client.query('BEGIN')
    try {
      await useStableOutput(client, tenantId)
      const plan = await planTenant(client, {
        tenantColumn: manifest.tenantColumn,
        ...(schemas ? { schemas } : {}),
      })
      const targets = matchTables(manifest, plan.tables, target)
      const present = await tenantRowsIn(client, plan.tables)
      let replacedRows = 0
      if (present > 0) {
        if (!options.replace) {
          throw new TenantLifecycleError('TENANT_EXISTS', 'The target already holds rows of this tenant: erase it first, or pass replace')
        }
        replacedRows = await deleteTenantRows(client, plan.tables)
      }
      const total = manifest.tables.length
      for (const [index, table] of manifest.tables.entries()) {
        const columns = table.columns.map((column) => ident(column.name)).join(', ')
        await pipeline(
          createReadStream(join(directory, table.file)),
          client.query(copyFrom(`COPY ${target(table.name)} (${columns}) FROM STDIN`)),
        )
        await onProgress?.({ phase: 'import', table: table.name, index: index + 1, total, rows: table.rows })
      }
      for (const target of plan.tables) await moveSequences(client, target)
      for (const [index, table] of manifest.tables.entries()) {
        await verifyTable(client, table, targets.get(table.name)!)
        await onProgress?.({ phase: 'verify', table: table.name, index: index + 1, total, rows: table.rows })
      }
      await client.query('COMMIT')
      return { tenantId, tables: manifest.tables.map((t) => ({ name: t.name, rows: t.rows })), replacedRows, verified: true }
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    }
  } catch (error) {
    throw asInterrupted(error, 'The import was interrupted and rolled back: nothing was written. Run it again.')
  }
}

// Every archived table must exist in the target with the same columns and types.
function matchTables(
  manifest: TenantManifest,
  planned: readonly PlannedTable[],
  target: (name: string) => string,
): Map<string, PlannedTable> {
  const byName = new Map(planned.map((table) => [table.name, table]))
  const problems: string[] = []
  const matched = new Map<string, PlannedTable>()
  for (const table of manifest.tables) {
    const found_ = byName.get(target(table.name))
    if (!found_) {
      problems.push(`${target(table.name)} is missing from the target`)
      continue
    }
    for (const column of table.columns) {
      const found = found_.columns.find((c) => c.name === column.name)
      if (!found) problems.push(`${table.name}.${column.name} is missing`)
      else if (found.type !== column.type) problems.push(`${table.name}.${column.name} is ${found.type}, the archive has ${column.type}`)
    }
    matched.set(table.name, found_)
  }
  if (problems.length > 0) {
    throw new TenantLifecycleError(
      'SCHEMA_INCOMPATIBLE',
      `The target's schema does not match the archive: ${problems.slice(0, 10).join('; ')}`,
    )
  }
  return matched
}

async function tenantRowsIn(client: pg.ClientBase, tables: readonly PlannedTable[]): Promise<number> {
  let rows = 0
  for (const table of tables) {
    const result = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table.name} t WHERE ${table.filter}`)
    rows += result.rows[0]!.n
  }
  return rows
}

// A sequence behind the imported values would hand out ids that exist.
async function moveSequences(client: pg.ClientBase, table: PlannedTable): Promise<void> {
  for (const { column, sequence } of table.sequences) {
    await client.query(
      `SELECT setval($1::regclass, m) FROM (SELECT max(${ident(column)})::int8 AS m FROM ${table.name}) x
        WHERE m IS NOT NULL AND m >= (SELECT last_value FROM ${sequence})`,
      [sequence],
    )
  }
}

// The imported rows, read back as the export read them, must be the archive's rows (in any order).
async function verifyTable(client: pg.ClientBase, table: ManifestTable, target: PlannedTable): Promise<void> {
  const digest = new CopyDigest()
  const columns = table.columns.map((column) => ident(column.name)).join(', ')
  const select = `SELECT ${columns} FROM ${target.name} t WHERE ${target.filter}`
  await pipeline(client.query(copyTo(`COPY (${select}) TO STDOUT`)), digest, new Writable({ write: (_chunk, _encoding, done) => done() }))
  if (digest.rows !== table.rows || digest.rowsDigest() !== table.rowsDigest) {
    throw new TenantLifecycleError(
      'VERIFY_FAILED',
      `${table.name} read back ${digest.rows} rows that do not match the archive's ${table.rows}: the import was rolled back`,
    )
  }
}

/** @internal `schema.table` (as format('%I.%I') writes it) with another schema, written as format would. */
export function inSchema(name: string, schema: string): string {
  let end = name.indexOf('.')
  if (name.startsWith('"')) {
    // The closing quote: a doubled quote is part of the name.
    for (end = 1; end < name.length; end++) {
      if (name[end] === '"') {
        if (name[end + 1] === '"') end++
        else break
      }
    }
    end++
  }
  const quoted = /^[a-z_][a-z0-9_$]*$/.test(schema) ? schema : ident(schema)
  return `${quoted}.${name.slice(end + 1)}`
}
