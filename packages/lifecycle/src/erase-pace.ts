import { setTimeout as sleep } from 'node:timers/promises'
import { TenantLifecycleError } from './lifecycle-error.js'

/**
 * The erase's default pace: at most a third of one backend's time. In the
 * benchmark (docs/benchmarks-lifecycle.md, 2-core machine, 1M rows) it kept
 * other tenants' p99 at 1.27× [1.24–1.41] their p99 without the erase (full
 * speed: 1.87× [1.86–1.94], pace 1: 1.73×; pace 3 did no better than 2),
 * for an erase about 3.6 times as long as at full speed (24.7 s vs 6.8 s).
 */
export const DEFAULT_ERASE_PACE = 2

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
