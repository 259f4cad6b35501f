import { type CellRun, type Network, pairOf, pairRatio, throughputOf, totalCpuPerOp } from './cells.js'
import { sharedServerRatio } from './shared-server.js'
import { judge, type Spread, type Verdict } from './spread.js'

export interface TargetResult {
  goal: string
  network: Network
  concurrency: number
  workload: string
  /** What is compared, in words. */
  measure: string
  value: Spread
  /** The throughput ratio beside it, for the reader (the verdict is on `value`). */
  throughputRatio?: Spread
  direction: 'at-least' | 'at-most'
  target: number
  verdict: Verdict
}

interface TargetSpec {
  goal: string
  network: Network
  concurrency: number
  workloads: string[]
  /** The compared modes: value = a / b per run. */
  a: string
  b: string
  measure: string
  /**
   * CPU: b's CPU per op over a's (≥ target) or a's over b's (≤ target);
   * `cpu-cost-shared-server` as `cpu-cost`, with the server's part shared
   * between modes that send the same bytes (shared-server.ts); throughput: a / b.
   */
  on: 'cpu-efficiency' | 'cpu-cost' | 'cpu-cost-shared-server' | 'throughput'
  direction: 'at-least' | 'at-most'
  target: number
}

const READS = ['point', 'top10']
const FLOOR_WORKLOADS = ['point', 'top10', 'insert', 'tx3']

/**
 * The targets of issue 12 and the read targets before it. CPU per operation
 * (this process plus the database's backends) decides where the machine is
 * CPU-bound (loopback); through the latency proxy, whose point is the round
 * trip, throughput does. The client path is compared with the server's part
 * shared, as the floor and tenantscope send it the same bytes.
 */
export const TARGET_SPECS: readonly TargetSpec[] = [
  {
    goal: 'client path at the floor',
    network: 'loopback',
    concurrency: 16,
    workloads: FLOOR_WORKLOADS,
    a: 'tenantscope',
    b: 'floor',
    measure: "CPU per op, tenantscope / floor: each its own client CPU, the server's shared (the same bytes; see below)",
    on: 'cpu-cost-shared-server',
    direction: 'at-most',
    target: 1.05,
  },
  {
    goal: 'prepareStatements faster than raw pg',
    network: 'loopback',
    concurrency: 16,
    workloads: READS,
    a: 'tenantscope-prepared',
    b: 'raw',
    measure: 'CPU efficiency, raw CPU per op / prepareStatements CPU per op',
    on: 'cpu-efficiency',
    direction: 'at-least',
    target: 1.0,
  },
  {
    goal: 'read target (loopback)',
    network: 'loopback',
    concurrency: 16,
    workloads: READS,
    a: 'tenantscope',
    b: 'raw',
    measure: 'CPU efficiency, raw CPU per op / tenantscope CPU per op',
    on: 'cpu-efficiency',
    direction: 'at-least',
    target: 0.85,
  },
  ...[1, 16].map(
    (concurrency): TargetSpec => ({
      goal: 'read target (through the proxy)',
      network: 'proxy',
      concurrency,
      workloads: READS,
      a: 'tenantscope',
      b: 'raw',
      measure: 'throughput, tenantscope / raw',
      on: 'throughput',
      direction: 'at-least',
      target: 0.95,
    }),
  ),
]

/** Every target whose modes were measured, judged across the runs' spread. */
export function judgeTargets(runs: readonly (readonly CellRun[])[], specs: readonly TargetSpec[] = TARGET_SPECS): TargetResult[] {
  const results: TargetResult[] = []
  for (const spec of specs) {
    for (const workload of spec.workloads) {
      const where = { network: spec.network, concurrency: spec.concurrency, workload }
      const measured = (mode: string) =>
        runs.some((run) =>
          run.some(
            (cell) =>
              cell.mode === mode && cell.workload === workload && cell.network === spec.network && cell.concurrency === spec.concurrency,
          ),
        )
      if (!measured(spec.a) || !measured(spec.b)) continue
      const value =
        spec.on === 'throughput'
          ? pairRatio(runs, where, spec.a, spec.b, throughputOf)
          : spec.on === 'cpu-cost'
            ? pairRatio(runs, where, spec.a, spec.b, totalCpuPerOp)
            : spec.on === 'cpu-cost-shared-server'
              ? pairOf(runs, where, spec.a, spec.b, sharedServerRatio)
              : pairRatio(runs, where, spec.a, spec.b, (cell) => 1 / totalCpuPerOp(cell))
      results.push({
        goal: spec.goal,
        ...where,
        measure: spec.measure,
        value,
        throughputRatio: pairRatio(runs, where, spec.a, spec.b, throughputOf),
        direction: spec.direction,
        target: spec.target,
        verdict: judge(value, spec.target, spec.direction),
      })
    }
  }
  return results
}
