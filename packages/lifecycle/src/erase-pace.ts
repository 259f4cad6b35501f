import { setTimeout as sleep } from 'node:timers/promises'
import { TenantLifecycleError } from './lifecycle-error.js'

/**
 * The erase's default pace: a backend busy at most a third of the time, so
 * that other tenants' queries keep the CPU they need, for an erase about
 * three times as long as at full speed (docs/benchmarks-lifecycle.md).
 */
export const DEFAULT_ERASE_PACE = 2

/**
 * The erase's default batch: rows deleted per transaction. While a batch
 * runs it holds a core, and another tenant's query that needs that core
 * waits: on a fast server, where that query's p99 is about a millisecond,
 * the length of one batch is what shows in it. In the benchmark
 * (docs/benchmarks-lifecycle.md, 2 cores, 1M rows, pace 2) batches of 5000
 * rows doubled other tenants' p99 (2.11× [1.85–2.33]); batches of 1000 kept
 * it at 1.54× [1.36–1.79] for an erase 1.6 times as long. Smaller batches
 * (250) did no better (1.50× [1.29–1.91]) and took twice as long again: each
 * batch's commit and round trips cost more than its rows.
 */
export const DEFAULT_ERASE_BATCH_SIZE = 1000

/** The largest pace accepted: an erase paused 100× its work is a mistake, not a setting. */
const MAX_PACE = 100

/** @internal `pace` checked: a finite number from 0 (full speed) to 100. */
export function checkPace(pace: unknown): number {
  if (typeof pace !== 'number' || !Number.isFinite(pace) || pace < 0 || pace > MAX_PACE) {
    throw new TenantLifecycleError('INVALID_CONFIG', `pace must be a number from 0 (full speed) to ${MAX_PACE}`)
  }
  return pace
}

/**
 * @internal After a batch that took `batchMs`, waits `pace` × that long
 * (pt-archiver's --sleep-coef): the erase then keeps a backend busy at most
 * 1/(1 + pace) of the time, however fast or slow the server is, and leaves
 * the rest of it to other tenants. Returns the milliseconds actually paused.
 */
export async function pauseAfterBatch(batchMs: number, pace: number): Promise<number> {
  if (pace === 0) return 0
  const began = performance.now()
  await sleep(batchMs * pace)
  return performance.now() - began
}
