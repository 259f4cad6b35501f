import type { Mode } from './modes.js'
import type { Picker, Workload } from './workloads.js'

export interface Sample {
  operations: number
  elapsedMs: number
  /** Latency of every operation, in milliseconds. */
  latencies: number[]
  errors: number
  /** CPU time of this process during the slice (user + system, all its threads), µs. */
  clientCpuMicroseconds?: number
  /** CPU time of the database's backends during the slice, µs; undefined when the server is not local. */
  serverCpuMicroseconds?: number | undefined
}

/**
 * Runs `workload` through `mode` with `concurrency` workers for about
 * `durationMs`, each worker starting its next operation as soon as the last
 * one finished (closed loop).
 */
export function runSlice(mode: Mode, workload: Workload, pick: Picker, concurrency: number, durationMs: number): Promise<Sample> {
  return runClosedLoop(`${mode.name} / ${workload.name}`, () => mode.run(workload.next(pick), workload.name), concurrency, durationMs)
}

/** `concurrency` workers each running `operation` back to back for about `durationMs`. */
export async function runClosedLoop(
  label: string,
  operation: () => Promise<unknown>,
  concurrency: number,
  durationMs: number,
): Promise<Sample> {
  const latencies: number[] = []
  let errors = 0
  let firstError: unknown
  const start = performance.now()
  const deadline = start + durationMs
  const worker = async () => {
    while (performance.now() < deadline) {
      const began = performance.now()
      try {
        await operation()
        latencies.push(performance.now() - began)
      } catch (error) {
        errors++
        firstError ??= error
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  const elapsedMs = performance.now() - start
  if (errors > 0) {
    throw new Error(`${label}: ${errors} operations failed; first: ${String((firstError as Error)?.message ?? firstError)}`)
  }
  return { operations: latencies.length, elapsedMs, latencies, errors }
}

export interface Summary {
  operations: number
  throughput: number
  p50: number
  p99: number
}

export function summarize(samples: readonly Sample[]): Summary {
  let operations = 0
  let elapsedMs = 0
  const all: number[] = []
  for (const sample of samples) {
    operations += sample.operations
    elapsedMs += sample.elapsedMs
    for (const latency of sample.latencies) all.push(latency)
  }
  all.sort((a, b) => a - b)
  return {
    operations,
    throughput: elapsedMs > 0 ? (operations * 1000) / elapsedMs : 0,
    p50: quantile(all, 0.5),
    p99: quantile(all, 0.99),
  }
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

/** Mode order for round `round`: rotated, so no mode always runs first or last. */
export function rotation<T>(items: readonly T[], round: number): T[] {
  const shift = round % items.length
  return [...items.slice(shift), ...items.slice(0, shift)]
}

/**
 * The ratio of two modes' throughput, round by round (the slices of one
 * round ran back to back), then the median over rounds: a burst of load from
 * elsewhere on the machine spoils one round, not the result.
 */
export function medianRatio(mode: readonly Sample[], baseline: readonly Sample[]): number {
  const ratios: number[] = []
  for (let round = 0; round < Math.min(mode.length, baseline.length); round++) {
    const a = mode[round]!
    const b = baseline[round]!
    if (a.elapsedMs > 0 && b.operations > 0) ratios.push(a.operations / a.elapsedMs / (b.operations / b.elapsedMs))
  }
  ratios.sort((x, y) => x - y)
  if (ratios.length === 0) return Number.NaN
  const middle = ratios.length / 2
  return ratios.length % 2 === 1 ? ratios[Math.floor(middle)]! : (ratios[middle - 1]! + ratios[middle]!) / 2
}
