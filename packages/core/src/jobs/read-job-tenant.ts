import { uuidTenantId } from '@tenantscope/core'
import { checkTenantId } from '../_check-tenant-id.js'
import { isRecord, ownValue } from '../_options.js'
import { DEFAULT_KEY, type JobTenantOptions, readJobOptions } from './job-options.js'
import { JobTenantError } from './job-tenant-error.js'

/**
 * The validated tenant of a job payload. Throws `JobTenantError` when it is
 * missing or malformed, so the job fails instead of running for no tenant.
 * Only the payload's own property counts: a `tenantId` inherited from a
 * prototype (e.g. a polluted `Object.prototype`) is no tenant.
 */
export function readJobTenant(payload: unknown, options?: JobTenantOptions): string {
  return readTenantOf(payload, readJobOptions('readJobTenant', options))
}

/** @internal readJobTenant with options already checked. */
export function readTenantOf(payload: unknown, options: JobTenantOptions): string {
  const key = options.key ?? DEFAULT_KEY
  if (!isRecord(payload)) {
    throw new JobTenantError('JOB_PAYLOAD_INVALID', 'The job payload is not an object, so it carries no tenant')
  }
  const raw = ownValue(payload, key)
  if (raw === undefined || raw === null || raw === '') {
    throw new JobTenantError('JOB_TENANT_MISSING', `The job payload has no ${key}: enqueue it with tenantPayload() inside withTenant`)
  }
  if (typeof raw !== 'string') {
    throw new JobTenantError('JOB_TENANT_INVALID', `The job payload's ${key} is not a string`)
  }
  // No cause: the parser's error may repeat the id.
  const checked = checkTenantId(options.parseTenantId ?? uuidTenantId, raw)
  if (!checked.ok) throw new JobTenantError('JOB_TENANT_INVALID', `The job payload's ${key} is not a valid tenant id`)
  return checked.tenantId
}
