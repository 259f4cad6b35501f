import type { TenantIdParser } from '@tenantscope/core'
import type pg from 'pg'
import { deleteBatch } from './delete-rows.js'
import { checkPace, DEFAULT_ERASE_BATCH_SIZE, DEFAULT_ERASE_PACE, pauseAfterBatch } from './erase-pace.js'
import { asInterrupted } from './interrupted.js'
import { TenantLifecycleError } from './lifecycle-error.js'
import type { OnProgress } from './progress.js'
import { TENANT_SETTING } from './session-settings.js'
import { parseTenant } from './tenant-id.js'
import { type PlannedTable, type PlanOptions, planTenant } from './tenant-plan.js'

export interface EraseTenantOptions extends PlanOptions {
  /** A connected client of a role that bypasses row level security (the maintenance role): it erases, and then proves nothing is left. */
  client: pg.ClientBase
  tenantId: string
  /** List what would be erased, erase nothing. @default false */
  dryRun?: boolean
  /**
   * Erase even though the tenant may still be writing. Without it, an erase
   * is refused: make the tenant read-only first (stop its traffic), then
   * erase with `force`.
   * @default false
   */
  force?: boolean
  /** Rows deleted per transaction: short transactions, so that other tenants never wait behind a long lock or a long batch. @default 1000 */
  batchSize?: number
  /**
   * After each batch, pause `pace` times as long as the batch took
   * (pt-archiver's `--sleep-coef`), so that the erase keeps a backend busy at
   * most 1/(1 + pace) of the time and other tenants' queries keep the CPU
   * and disks they need. `0` erases at full speed (a maintenance window, a
   * server to spare). A number from 0 to 100.
   * @example eraseTenant({ client, tenantId, force: true, pace: 0 }) // full speed
   * @default 2 (an erase about three times as long as at full speed; see docs/benchmarks-lifecycle.md)
   */
  pace?: number
  /** @default uuidTenantId */
  parseTenantId?: TenantIdParser
  onProgress?: OnProgress
}

/** What an erase did, and the proof: kept in `tenantscope.tenant_erasures` when that table exists. */
export interface EraseReceipt {
  tenantId: string
  dryRun: boolean
  /** Children first: the order rows were (or would be) deleted in. */
  tables: { name: string; via: string; rows: number }[]
  rows: number
  /** DELETE transactions that removed rows (0 in a dry run). */
  batches: number
  /** The pace the erase ran at, and the milliseconds it paused between batches in all (0 at pace 0). */
  pace: number
  pausedMs: number
  startedAt: string
  finishedAt: string
  /** After the erase, a role that bypasses row level security counted 0 rows of the tenant in every table. */
  verified: boolean
  /** The receipt was written to tenantscope.tenant_erasures (the migration 0006_tenant_erasures). */
  recorded: boolean
}

/**
 * Erases every row of a tenant in every table that holds its rows (found
 * from the catalog, foreign-key-only tables included), children before
 * parents, in batches of `batchSize` rows per transaction, paused between
 * batches in proportion to their time (`pace`). Then counts again
 * as a role that bypasses row level security: zero rows anywhere, or
 * VERIFY_FAILED. The receipt is returned and kept in
 * `tenantscope.tenant_erasures`. An interrupted erase is rerun to complete.
 */
export async function eraseTenant(options: EraseTenantOptions): Promise<EraseReceipt> {
  const tenantId = parseTenant(options.tenantId, options.parseTenantId)
  const { client, onProgress } = options
  const dryRun = options.dryRun ?? false
  const batchSize = options.batchSize ?? DEFAULT_ERASE_BATCH_SIZE
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw new TenantLifecycleError('INVALID_CONFIG', 'batchSize must be a positive integer')
  const pace = checkPace(options.pace ?? DEFAULT_ERASE_PACE)
  if (!dryRun && options.force !== true) {
    throw new TenantLifecycleError(
      'ERASE_REFUSED',
      'Erasing a tenant that may still be writing: make it read-only first, then erase with force',
    )
  }
  const startedAt = new Date().toISOString()
  try {
    const plan = await planTenant(client, options)
    const childrenFirst = [...plan.tables].reverse()
    const counts = await countRows(client, childrenFirst, tenantId)
    const tables = childrenFirst.map((table, i) => ({ name: table.name, via: table.via, rows: counts[i]! }))
    let batches = 0
    let pausedMs = 0
    if (!dryRun) {
      for (const [index, table] of childrenFirst.entries()) {
        let rows = 0
        // A short batch was the table's last: rows written meanwhile (by a
        // tenant erased with force while it still writes) fail the count below.
        for (let deleted = batchSize; deleted >= batchSize; ) {
          const began = performance.now()
          deleted = await inTenantTransaction(client, tenantId, () => deleteBatch(client, table, batchSize))
          const took = performance.now() - began
          rows += deleted
          await onProgress?.({ phase: 'erase', table: table.name, index: index + 1, total: childrenFirst.length, rows })
          if (deleted === 0) break
          batches += 1
          pausedMs += await pauseAfterBatch(took, pace)
        }
      }
    }
    const left = dryRun ? [] : await countRows(client, childrenFirst, tenantId)
    const remaining = left.reduce((sum, n) => sum + n, 0)
    if (remaining > 0) {
      throw new TenantLifecycleError(
        'VERIFY_FAILED',
        `${remaining} rows of the tenant were written while it was erased: run the erase again`,
      )
    }
    const receipt: EraseReceipt = {
      tenantId,
      dryRun,
      tables,
      rows: tables.reduce((sum, t) => sum + t.rows, 0),
      batches,
      pace,
      pausedMs: Math.round(pausedMs),
      startedAt,
      finishedAt: new Date().toISOString(),
      verified: !dryRun,
      recorded: false,
    }
    if (!dryRun) receipt.recorded = await record(client, receipt)
    return receipt
  } catch (error) {
    throw asInterrupted(error, 'The erase was interrupted between batches: the rows deleted so far stay deleted. Run it again to finish.')
  }
}

async function countRows(client: pg.ClientBase, tables: readonly PlannedTable[], tenantId: string): Promise<number[]> {
  return inTenantTransaction(client, tenantId, async () => {
    const counts: number[] = []
    for (const table of tables) {
      const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table.name} t WHERE ${table.filter}`)
      counts.push(rows[0]!.n)
    }
    return counts
  })
}

async function inTenantTransaction<T>(client: pg.ClientBase, tenantId: string, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN')
  try {
    await client.query('SELECT set_config($1, $2, true)', [TENANT_SETTING, tenantId])
    const result = await fn()
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  }
}

async function record(client: pg.ClientBase, receipt: EraseReceipt): Promise<boolean> {
  const { rows } = await client.query<{ exists: boolean }>(`SELECT to_regclass('tenantscope.tenant_erasures') IS NOT NULL AS exists`)
  if (!rows[0]!.exists) return false
  await client.query(
    `INSERT INTO tenantscope.tenant_erasures (tenant_id, started_at, finished_at, tables, rows, verified) VALUES ($1, $2, $3, $4, $5, $6)`,
    [receipt.tenantId, receipt.startedAt, receipt.finishedAt, JSON.stringify(receipt.tables), receipt.rows, receipt.verified],
  )
  return true
}
