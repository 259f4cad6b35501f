import type { CitusQueryable } from './citus-queryable.js'
import { assertCitus } from './tenant-shard.js'

/** One tenant's line of `citus_stat_tenants` (routed queries only; needs `citus.stat_tenants_track = 'all'`). */
export interface TenantStats {
  readonly tenant: string
  readonly colocationId: number
  readonly readsThisPeriod: number
  readonly queriesThisPeriod: number
  readonly cpuSecondsThisPeriod: number
  readonly readsLastPeriod: number
  readonly queriesLastPeriod: number
  readonly cpuSecondsLastPeriod: number
}

/** The busiest tenants first, by queries in the current period. */
export async function readTenantStats(db: CitusQueryable, options: { limit?: number } = {}): Promise<TenantStats[]> {
  await assertCitus(db)
  const { rows } = await db.query<Record<string, string | number>>(
    `SELECT tenant_attribute, colocation_id, read_count_in_this_period, query_count_in_this_period, cpu_usage_in_this_period,
            read_count_in_last_period, query_count_in_last_period, cpu_usage_in_last_period
       FROM citus_stat_tenants
      ORDER BY query_count_in_this_period DESC, query_count_in_last_period DESC, tenant_attribute
      LIMIT $1`,
    [options.limit ?? 20],
  )
  return rows.map((row) => ({
    tenant: String(row.tenant_attribute),
    colocationId: Number(row.colocation_id),
    readsThisPeriod: Number(row.read_count_in_this_period),
    queriesThisPeriod: Number(row.query_count_in_this_period),
    cpuSecondsThisPeriod: Number(row.cpu_usage_in_this_period),
    readsLastPeriod: Number(row.read_count_in_last_period),
    queriesLastPeriod: Number(row.query_count_in_last_period),
    cpuSecondsLastPeriod: Number(row.cpu_usage_in_last_period),
  }))
}

const COLUMNS: [string, (stats: TenantStats) => string][] = [
  ['tenant', (s) => s.tenant],
  ['queries', (s) => String(s.queriesThisPeriod)],
  ['reads', (s) => String(s.readsThisPeriod)],
  ['cpu s', (s) => s.cpuSecondsThisPeriod.toFixed(3)],
  ['queries (last)', (s) => String(s.queriesLastPeriod)],
  ['cpu s (last)', (s) => s.cpuSecondsLastPeriod.toFixed(3)],
]

/** A plain-text table, one tenant a line, numbers right-aligned. */
export function formatTenantStats(stats: readonly TenantStats[]): string {
  if (stats.length === 0) {
    return "no tenant statistics yet: only routed queries are counted (citus.stat_tenants_track = 'all')\n"
  }
  const cells = [COLUMNS.map(([title]) => title), ...stats.map((s) => COLUMNS.map(([, cell]) => cell(s)))]
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)))
  const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')
  return cells.map((row) => `${line(row).trimEnd()}\n`).join('')
}
