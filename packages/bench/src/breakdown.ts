import { type Cell, type CellRun, clientCpuPerOp, pairOf, pairRatio, serverCpuPerOp, totalCpuPerOp } from './cells.js'
import { formatSpread, type Spread } from './spread.js'

/** The modes that take a scoped statement apart, cheapest design first. */
export const BREAKDOWN_MODES = [
  'raw',
  'floor',
  'floor-again',
  'floor-als',
  'tenantscope',
  'tenantscope-prepared',
  'tenantscope-unnamed',
] as const

export interface BreakdownRow {
  workload: string
  mode: string
  clientCpu: Spread
  serverCpu: Spread
  totalCpu: Spread
  /** Total CPU per op over the floor's in the same run. */
  vsFloor: Spread
  /** Total CPU per op over the floor's with its tenant in AsyncLocalStorage, in the same run. */
  vsFloorAls: Spread
  /** Total CPU per op over raw pg's in the same run. */
  vsRaw: Spread
}

/**
 * Where the CPU of a scoped statement goes, on one network and concurrency:
 * raw pg; the floor (RLS, the setter in the same pipeline, pg's own Query for
 * the rows: what any one-round-trip, transaction-local design pays); then
 * tenantscope's modes. Derived from the same runs as every other table.
 */
export function breakdown(
  runs: readonly (readonly CellRun[])[],
  cells: readonly Cell[],
  where: { network: CellRun['network']; concurrency: number },
): BreakdownRow[] {
  const rows: BreakdownRow[] = []
  const workloads = [
    ...new Set(cells.filter((c) => c.network === where.network && c.concurrency === where.concurrency).map((c) => c.workload)),
  ]
  for (const workload of workloads) {
    for (const mode of BREAKDOWN_MODES) {
      const cell = cells.find(
        (c) => c.network === where.network && c.concurrency === where.concurrency && c.workload === workload && c.mode === mode,
      )
      if (!cell) continue
      const at = { ...where, workload }
      rows.push({
        workload,
        mode,
        clientCpu: cell.clientCpu,
        serverCpu: cell.serverCpu,
        totalCpu: cell.totalCpu,
        vsFloor: pairRatio(runs, at, mode, 'floor', totalCpuPerOp),
        vsFloorAls: pairRatio(runs, at, mode, 'floor-als', totalCpuPerOp),
        vsRaw: pairRatio(runs, at, mode, 'raw', totalCpuPerOp),
      })
    }
  }
  return rows
}

/** µs per op that `mode` spends beyond `base`, client and server apart, per run; median and spread over runs. */
export function extraOver(
  runs: readonly (readonly CellRun[])[],
  at: Pick<CellRun, 'network' | 'concurrency' | 'workload'>,
  mode: string,
  base: string,
) {
  return {
    client: pairOf(runs, at, mode, base, (x, y) => clientCpuPerOp(x) - clientCpuPerOp(y)),
    server: pairOf(runs, at, mode, base, (x, y) => serverCpuPerOp(x) - serverCpuPerOp(y)),
  }
}

export function renderBreakdown(rows: readonly BreakdownRow[]): string[] {
  const lines = [
    '| workload | mode | client CPU µs/op | server CPU µs/op | total µs/op | total / floor | total / floor with ALS | total / raw |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const row of rows) {
    lines.push(
      `| ${row.workload} | ${row.mode} | ${formatSpread(row.clientCpu, 0)} | ${formatSpread(row.serverCpu, 0)} | ${formatSpread(row.totalCpu, 0)} | ${formatSpread(row.vsFloor)} | ${formatSpread(row.vsFloorAls)} | ${formatSpread(row.vsRaw)} |`,
    )
  }
  return lines
}
