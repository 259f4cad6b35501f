import { type Spread, spreadOf } from './spread.js'

export type Network = 'loopback' | 'proxy'

/** One mode on one workload, network and concurrency, in one run: totals over its rounds. */
export interface CellRun {
  network: Network
  concurrency: number
  workload: string
  mode: string
  operations: number
  elapsedMs: number
  p50: number
  p99: number
  /** Totals over the run's measured slices, µs. */
  clientCpuMicroseconds: number
  /** null when the server's processes cannot be read (not on this machine). */
  serverCpuMicroseconds: number | null
  /**
   * Raw pg as measured beside this mode, when that is not the run's raw pg
   * row: the modes are measured in groups (mode-groups.ts), and a ratio to
   * raw pg is taken within the group.
   */
  baseline?: CellRun
}

/** One mode on one workload, network and concurrency, over all runs: each figure a median with its [min–max]. */
export interface Cell {
  network: Network
  concurrency: number
  workload: string
  mode: string
  operations: number
  throughput: Spread
  p50: Spread
  p99: Spread
  /** Throughput / raw pg's in the same run (each over all the run's rounds, which alternate the modes). */
  ratio: Spread
  /** µs per operation. */
  clientCpu: Spread
  serverCpu: Spread
  totalCpu: Spread
  /** Total CPU per operation / raw pg's in the same run: below 1 is cheaper than raw. */
  cpuVsRaw: Spread
}

export const cellKey = (cell: Pick<CellRun, 'network' | 'concurrency' | 'workload' | 'mode'>) =>
  `${cell.network}|${cell.concurrency}|${cell.workload}|${cell.mode}`

const perOperation = (run: CellRun, value: number | null) => (value === null || run.operations === 0 ? Number.NaN : value / run.operations)
export const clientCpuPerOp = (run: CellRun) => perOperation(run, run.clientCpuMicroseconds)
export const serverCpuPerOp = (run: CellRun) => perOperation(run, run.serverCpuMicroseconds)
export const totalCpuPerOp = (run: CellRun) =>
  perOperation(run, run.serverCpuMicroseconds === null ? null : run.clientCpuMicroseconds + run.serverCpuMicroseconds)

/**
 * Folds the runs (one CellRun list per run) into cells, in the order they
 * first appear. Every figure is computed per run, then its median and
 * spread taken over the runs: ratios pair a mode with the baseline of the
 * same run, never medians with medians.
 */
export function aggregateCells(runs: readonly (readonly CellRun[])[]): Cell[] {
  const byRun = runs.map((run) => new Map(run.map((cell) => [cellKey(cell), cell])))
  const keys = [...new Set(runs.flatMap((run) => run.map(cellKey)))]
  return keys.map((key) => {
    const mine = byRun.map((run) => run.get(key))
    const first = mine.find((cell) => cell !== undefined)!
    const raws = byRun.map((run) => run.get(cellKey({ ...first, mode: 'raw' })))
    const of = (value: (cell: CellRun, raw: CellRun | undefined) => number) =>
      spreadOf(mine.map((cell, index) => (cell ? value(cell, cell.baseline ?? raws[index]) : Number.NaN)))
    return {
      network: first.network,
      concurrency: first.concurrency,
      workload: first.workload,
      mode: first.mode,
      operations: mine.reduce((sum, cell) => sum + (cell?.operations ?? 0), 0),
      throughput: of((cell) => (cell.operations * 1000) / cell.elapsedMs),
      p50: of((cell) => cell.p50),
      p99: of((cell) => cell.p99),
      ratio: of((cell, raw) => (raw ? throughputOf(cell) / throughputOf(raw) : Number.NaN)),
      clientCpu: of(clientCpuPerOp),
      serverCpu: of(serverCpuPerOp),
      totalCpu: of(totalCpuPerOp),
      cpuVsRaw: of((cell, raw) => (raw ? totalCpuPerOp(cell) / totalCpuPerOp(raw) : Number.NaN)),
    }
  })
}

/**
 * Per run, `combine(a, b, run)` for two modes of the same workload, network
 * and concurrency, then the median and spread over runs. Raw pg as `b` is
 * the one measured beside `a` (its baseline, when it has one).
 */
export function pairOf(
  runs: readonly (readonly CellRun[])[],
  where: Pick<CellRun, 'network' | 'concurrency' | 'workload'>,
  a: string,
  b: string,
  combine: (a: CellRun, b: CellRun, run: readonly CellRun[]) => number,
): Spread {
  return spreadOf(
    runs.map((run) => {
      const x = run.find((cell) => cellKey(cell) === cellKey({ ...where, mode: a }))
      const y = (b === 'raw' ? x?.baseline : undefined) ?? run.find((cell) => cellKey(cell) === cellKey({ ...where, mode: b }))
      return x && y ? combine(x, y, run) : Number.NaN
    }),
  )
}

/** Per run, `value(a) / value(b)`; median and spread over runs. */
export const pairRatio = (
  runs: readonly (readonly CellRun[])[],
  where: Pick<CellRun, 'network' | 'concurrency' | 'workload'>,
  a: string,
  b: string,
  value: (cell: CellRun) => number,
): Spread => pairOf(runs, where, a, b, (x, y) => value(x) / value(y))

/** Throughput of one run's cell, operations per second. */
export const throughputOf = (cell: CellRun) => (cell.operations * 1000) / cell.elapsedMs
