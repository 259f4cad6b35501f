import type { TenantEntry } from '@tenantscope/router'
import type pg from 'pg'

/** @internal A row of tenantscope.tenant_moves (sql/0008_tenant_moves.sql). */
export interface MoveJournal {
  source: TenantEntry
  destination: TenantEntry
  phase: 'frozen' | 'switched' | 'finished'
  eraseAfter: Date | null
  receipt: unknown
}

const ENTRY = 'tenant_id, strategy, schema_name, role_name, database_key, region, state'

/** @internal The tenant's directory entry, or undefined. */
export async function readEntry(admin: pg.Pool | pg.ClientBase, tenantId: string): Promise<TenantEntry | undefined> {
  const { rows } = await admin.query(`SELECT ${ENTRY} FROM tenantscope.tenant_directory WHERE tenant_id = $1`, [tenantId])
  const row = rows[0]
  if (row === undefined) return undefined
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

/** @internal The tenant's last move, or undefined. */
export async function readMove(admin: pg.Pool | pg.ClientBase, tenantId: string): Promise<MoveJournal | undefined> {
  const { rows } = await admin.query(
    `SELECT source, destination, phase, erase_after, receipt FROM tenantscope.tenant_moves WHERE tenant_id = $1`,
    [tenantId],
  )
  const row = rows[0]
  if (row === undefined) return undefined
  return { source: row.source, destination: row.destination, phase: row.phase, eraseAfter: row.erase_after, receipt: row.receipt }
}

/** @internal The same place: strategy, schema, database and region (state and role aside). */
export function samePlace(a: Omit<TenantEntry, 'tenantId' | 'state'>, b: Omit<TenantEntry, 'tenantId' | 'state'>): boolean {
  return (
    a.strategy === b.strategy &&
    (a.schema ?? null) === (b.schema ?? null) &&
    (a.database ?? null) === (b.database ?? null) &&
    (a.region ?? null) === (b.region ?? null)
  )
}

/** @internal The columns of the directory row for an entry's place. */
export function placeColumns(entry: TenantEntry): (string | null)[] {
  return [entry.strategy, entry.schema ?? null, entry.role ?? null, entry.database ?? null, entry.region ?? null]
}
