import type { TenantIdParser } from '@tenantscope/core'
import pg from 'pg'
import { dropEmptySource, type SourcePlace } from './drop-empty-source.js'
import { checkPace } from './erase-pace.js'
import { type EraseReceipt, eraseTenant } from './erase-tenant.js'
import { asInterrupted } from './interrupted.js'
import { TenantLifecycleError } from './lifecycle-error.js'
import { readEntry, readMove, samePlace } from './move-journal.js'
import type { MoveReceipt, PlaceConnection } from './move-tenant.js'
import type { OnProgress } from './progress.js'
import { parseTenant } from './tenant-id.js'

/** A move's receipt once its old copy is erased: kept in tenantscope.tenant_moves. */
export type FinishedMove = MoveReceipt & {
  erased: EraseReceipt
  /** A schema or database source: its schema or database dropped, or why it was kept. */
  sourcePlace?: SourcePlace
}

export interface FinishMoveOptions {
  /** The directory's database, as for moveTenant. */
  admin: pg.Pool
  tenantId: string
  connectionFor: PlaceConnection
  /** @default ['public'] */
  sharedSchemas?: readonly string[]
  /** Erase the source before its grace period is over. @default false */
  force?: boolean
  /**
   * Keep a schema or database tenant's old schema (and role) or database
   * once it is empty. Without it, they are dropped, but only when no table
   * there holds a row, no other tenant lives there, and it is none of the
   * shared schemas nor the directory's own database. @default false
   */
  keepSourcePlace?: boolean
  /** The old copy's erase pauses between batches as eraseTenant's `pace` says (0: full speed). @default 2 */
  pace?: number
  tenantColumn?: string
  parseTenantId?: TenantIdParser
  onProgress?: OnProgress
}

/**
 * Erases a moved tenant's old copy once the move's grace period is over
 * (GRACE_PERIOD before, unless `force`): every row of the tenant at the
 * source, verified, with eraseTenant's receipt, which is kept in the move's
 * journal row (phase `finished`). Then the schema (and its role) or the
 * database of a schema or database source is dropped when it is empty and
 * nobody else's (`sourcePlace` says what was dropped, or why not; see
 * `keepSourcePlace`). Refused (MOVE_IN_PROGRESS,
 * nothing erased) when the directory points at the source again: it holds
 * the live copy. Rerun after an interruption.
 */
export async function finishMove(options: FinishMoveOptions): Promise<FinishedMove> {
  const tenantId = parseTenant(options.tenantId, options.parseTenantId)
  if (options.pace !== undefined) checkPace(options.pace)
  const journal = await readMove(options.admin, tenantId)
  if (journal === undefined || journal.phase === 'frozen') {
    throw new TenantLifecycleError('TENANT_NOT_FOUND', 'The tenant has no switched move to finish')
  }
  const receipt = journal.receipt as MoveReceipt & { erased?: EraseReceipt }
  if (journal.phase === 'finished' && receipt.erased) return receipt as FinishedMove
  if (!options.force && journal.eraseAfter !== null && journal.eraseAfter.getTime() > Date.now()) {
    throw new TenantLifecycleError(
      'GRACE_PERIOD',
      `The source is kept until ${journal.eraseAfter.toISOString()}: pass force to erase it now`,
    )
  }
  const source = journal.source
  const current = await readEntry(options.admin, tenantId)
  if (current !== undefined && samePlace(current, source)) {
    throw new TenantLifecycleError(
      'MOVE_IN_PROGRESS',
      "The directory points at the move's source again, so it holds the tenant's live copy: nothing was erased",
    )
  }
  const schemas = source.strategy === 'schema' ? [source.schema!] : [...(options.sharedSchemas ?? ['public'])]
  const config = await options.connectionFor(source)
  const client = new pg.Client(typeof config === 'string' ? { connectionString: config } : config)
  client.on('error', () => undefined)
  let erased: EraseReceipt
  let sourcePlace: SourcePlace | undefined
  try {
    await client.connect()
    erased = await eraseTenant({
      client,
      tenantId,
      force: true,
      schemas,
      ...(options.pace !== undefined ? { pace: options.pace } : {}),
      ...(options.tenantColumn ? { tenantColumn: options.tenantColumn } : {}),
      ...(options.parseTenantId ? { parseTenantId: options.parseTenantId } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    })
    if (!options.keepSourcePlace) sourcePlace = await dropEmptySource(options.admin, source, client, options.sharedSchemas ?? ['public'])
  } catch (error) {
    throw asInterrupted(error, 'Erasing the old copy was interrupted: the rows deleted so far stay deleted. Run it again to finish.')
  } finally {
    await client.end().catch(() => undefined)
  }
  const finished: FinishedMove = { ...receipt, erased, ...(sourcePlace ? { sourcePlace } : {}) }
  await options.admin.query(
    `UPDATE tenantscope.tenant_moves SET phase = 'finished', finished_at = now(), receipt = $2 WHERE tenant_id = $1 AND phase = 'switched'`,
    [tenantId, JSON.stringify(finished)],
  )
  return finished
}
