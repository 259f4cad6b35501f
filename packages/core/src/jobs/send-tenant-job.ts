import { TenantScopeError } from '@tenantscope/core'
import type { JobTenantOptions } from './job-options.js'
import { tenantPayload } from './tenant-payload.js'

/** The slice of pg-boss (9, 10, 11+) used to enqueue. */
export interface PgBossSender {
  send(name: string, data: object, options?: any): Promise<string | null>
}

/**
 * Enqueues a pg-boss job for the current tenant: `boss.send(name,
 * tenantPayload(data), options)`. Outside `withTenant` it throws
 * `TENANT_CONTEXT_MISSING` and nothing is enqueued.
 * @example await withTenant(tenantId, () => sendTenantJob(boss, 'invoice-report', { month: '2026-11' }))
 */
export function sendTenantJob(
  boss: PgBossSender,
  name: string,
  data: object = {},
  sendOptions?: object,
  options?: JobTenantOptions,
): Promise<string | null> {
  let payload: object
  try {
    if (typeof boss?.send !== 'function') throw new TenantScopeError('INVALID_CONFIG', 'sendTenantJob: boss must have a send() method')
    if (typeof name !== 'string' || name === '') {
      throw new TenantScopeError('INVALID_CONFIG', 'sendTenantJob: name must be a non-empty string')
    }
    payload = tenantPayload(data, options)
  } catch (error) {
    return Promise.reject(error)
  }
  return sendOptions === undefined ? boss.send(name, payload) : boss.send(name, payload, sendOptions)
}
