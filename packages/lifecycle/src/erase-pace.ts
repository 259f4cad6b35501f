import { setTimeout as sleep } from 'node:timers/promises'
import { TenantLifecycleError } from './lifecycle-error.js'

/**
 * The erase's default pace: a third of one backend's time. A 1M-row erase
 * then takes about as long as it did at full speed before its batches read
 * only their own rows (12 s), and other tenants' p99 stays within 2× of
 * their p99 without it on a 2-core machine (docs/benchmarks-lifecycle.md).
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
