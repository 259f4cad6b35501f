import { DEFAULT_KEY, type JobTenantOptions } from './job-options.js'
import { JobTenantError } from './job-tenant-error.js'
import { uuidTenantId } from '@tenantscope/core'

/**
 * The validated tenant of a job payload. Throws `JobTenantError` when it is
 * missing or malformed, so the job fails instead of running for no tenant.
 */
export function readJobTenant(payload: unknown, options: JobTenantOptions = {}): string {
  const key = options.key ?? DEFAULT_KEY
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new JobTenantError('JOB_PAYLOAD_INVALID', 'The job payload is not an object, so it carries no tenant')
  }
  const raw = (payload as Record<string, unknown>)[key]
  if (raw === undefined || raw === null || raw === '') {
    throw new JobTenantError('JOB_TENANT_MISSING', `The job payload has no ${key}: enqueue it with tenantPayload() inside withTenant`)
  }
  if (typeof raw !== 'string') {
    throw new JobTenantError('JOB_TENANT_INVALID', `The job payload's ${key} is not a string`)
  }
  try {
    const parsed = (options.parseTenantId ?? uuidTenantId)(raw)
    if (typeof parsed !== 'string' || parsed === '') throw new Error('parser returned no id')
    return parsed
  } catch (cause) {
    throw new JobTenantError('JOB_TENANT_INVALID', `The job payload's ${key} is not a valid tenant id`, { cause })
  }
}
