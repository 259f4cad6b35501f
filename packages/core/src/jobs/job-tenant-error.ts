import { TenantScopeError } from '@tenantscope/core'
import { brandError } from '../_branded-error.js'
import type { JobTenantErrorCode } from './job-tenant-error-code.js'

export type { JobTenantErrorCode } from './job-tenant-error-code.js'

/**
 * Thrown when a job cannot be run for a tenant, before the handler is
 * called. Queues record it as the job's failure. The message never contains
 * the payload or the id. A TenantScopeError, so one `catch` covers both.
 */
export class JobTenantError extends TenantScopeError {
  override readonly name: string = 'JobTenantError'
  declare readonly code: JobTenantErrorCode

  constructor(code: JobTenantErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }

  /** True for a JobTenantError from any installed copy of tenantscope. */
  static override is(error: unknown, code?: JobTenantErrorCode): error is JobTenantError {
    return isJobTenantError(error, code)
  }
}

const isJobTenantError = brandError(JobTenantError, 'JobTenantError')
