import { getTenantId, TenantScopeError, uuidTenantId } from '@tenantscope/core'
import { checkTenantId } from '../_check-tenant-id.js'
import { isRecord, ownValue } from '../_options.js'
import { DEFAULT_KEY, type JobTenantOptions, readJobOptions } from './job-options.js'
import { JobTenantError } from './job-tenant-error.js'

/** A payload with the tenant it was enqueued for. */
export type TenantPayload<T extends object, K extends string = 'tenantId'> = T & { readonly [P in K]: string }

/**
 * Stamps the current tenant onto a job payload, to be enqueued. Throws
 * `TENANT_CONTEXT_MISSING` outside `withTenant` and `TENANT_MISMATCH` when
 * the payload already names another tenant: a job is always enqueued for the
 * tenant that asked for it.
 * @example await withTenant(tenantId, () => boss.send('report', tenantPayload({ month: '2026-11' })))
 */
export function tenantPayload<T extends object, K extends string = 'tenantId'>(
  data: T,
  options?: JobTenantOptions & { key?: K },
): TenantPayload<T, K> {
  const { key = DEFAULT_KEY, parseTenantId = uuidTenantId } = readJobOptions('tenantPayload', options)
  if (!isRecord(data)) {
    throw new JobTenantError('JOB_PAYLOAD_INVALID', 'A tenant job payload must be a plain object')
  }
  const current = getTenantId()
  // No cause: the parser's error may repeat the id.
  const checked = checkTenantId(parseTenantId, current)
  if (!checked.ok) throw new TenantScopeError('INVALID_TENANT_ID', 'The current tenant id was rejected by parseTenantId')
  const tenantId = checked.tenantId
  const existing = ownValue(data, key)
  if (existing !== undefined && existing !== tenantId && existing !== current) {
    throw new TenantScopeError('TENANT_MISMATCH', `The payload's ${key} is not the current tenant`)
  }
  return { ...data, [key]: tenantId } as TenantPayload<T, K>
}
