import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import { CopyDigest, type TenantManifest } from './archive.js'
import { TenantLifecycleError } from './lifecycle-error.js'
import { useStableOutput } from './session-settings.js'
import { ident, type PlanOptions, planTenant } from './tenant-plan.js'

/**
 * @internal A move's check, after its export and before its switch, that
 * the frozen source still holds exactly the archive's rows: each table read
 * again (a new snapshot) and digested as an import's read-back is, compared
 * with the archive's rows digest, not only its count. An UPDATE, or an
 * INSERT and a DELETE, by a writer that does not go through a router shows
 * here: VERIFY_FAILED, and the move is undone rather than losing it.
 * `manifest` is as readArchive returns it (with rowsDigest).
 */
export async function checkSourceUnchanged(client: pg.ClientBase, manifest: TenantManifest, plan: PlanOptions): Promise<void> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
  try {
    await useStableOutput(client, manifest.tenantId)
    const tables = new Map((await planTenant(client, plan)).tables.map((table) => [table.name, table]))
    for (const table of manifest.tables) {
      const source = tables.get(table.name)
      const columns = table.columns.map((column) => ident(column.name)).join(', ')
      const digest = new CopyDigest()
      if (source !== undefined) {
        const select = `SELECT ${columns} FROM ${source.name} t WHERE ${source.filter}`
        await pipeline(client.query(copyTo(`COPY (${select}) TO STDOUT`)), digest, new Writable({ write: (_c, _e, done) => done() }))
      }
      if (source === undefined || digest.rows !== table.rows || digest.rowsDigest() !== table.rowsDigest) {
        throw new TenantLifecycleError(
          'VERIFY_FAILED',
          `${table.name} changed during the freeze (a write that did not go through a router): the move was undone`,
        )
      }
    }
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  }
}
