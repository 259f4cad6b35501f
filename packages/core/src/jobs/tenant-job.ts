import { TenantScopeError, withTenant } from '@tenantscope/core'
import { isRecord } from '../_options.js'
import { type JobTenantOptions, readJobOptions } from './job-options.js'
import { readTenantOf } from './read-job-tenant.js'

/** Any queue's job: pg-boss, BullMQ, Graphile Worker... all carry `data`. */
export interface JobLike {
  readonly data: unknown
}

/**
 * Wraps a job handler so that it runs inside `withTenant` for the tenant in
 * the job's payload. A job without a valid tenant throws `JobTenantError`
 * before the handler is called, so the queue marks it failed and it never
 * runs under any tenant.
 *
 * Takes one job (BullMQ, pg-boss `batchSize: 1`) or an array (pg-boss 10+
 * hands the handler an array). For an array every tenant is checked first:
 * one bad job fails the batch before any handler runs; then each job runs in
 * its own tenant context, one after another.
 * @example
 * await boss.work('report', tenantJob(async (job) => {
 *   const { rows } = await pool.query('SELECT sum(amount_cents) FROM invoices') // this tenant's rows only
 * }))
 */
export function tenantJob<J extends JobLike, R>(
  handler: (job: J) => R | Promise<R>,
  options?: JobTenantOptions,
): {
  (job: J): Promise<R>
  (jobs: J[]): Promise<R[]>
} {
  if (typeof handler !== 'function') throw new TenantScopeError('INVALID_CONFIG', 'tenantJob(handler): handler must be a function')
  const checked = readJobOptions('tenantJob', options)
  async function run(jobOrJobs: J | J[]): Promise<R | R[]> {
    if (Array.isArray(jobOrJobs)) {
      const tenants = jobOrJobs.map((job) => readTenantOf(dataOf(job), checked))
      const results: R[] = []
      for (const [index, job] of jobOrJobs.entries()) {
        results.push(await withTenant(tenants[index]!, () => handler(job)))
      }
      return results
    }
    const tenantId = readTenantOf(dataOf(jobOrJobs), checked)
    return withTenant(tenantId, () => handler(jobOrJobs))
  }
  return run as { (job: J): Promise<R>; (jobs: J[]): Promise<R[]> }
}

// The job's `data`: its own, or a getter of its class (a queue's Job class
// may define one), never one that reaches Object.prototype (polluted).
function dataOf(job: unknown): unknown {
  if (!isRecord(job)) return undefined
  for (let owner: object | null = job; owner !== null && owner !== Object.prototype; owner = Object.getPrototypeOf(owner)) {
    if (Object.hasOwn(owner, 'data')) return (job as { data?: unknown }).data
  }
  return undefined
}
