import { TenantScopeError } from '@tenantscope/core'

/** Why a job was refused: it is never run under any tenant. */
export type JobTenantErrorCode =
  /** The payload carries no tenant (enqueued outside `withTenant`, or by hand). */
  | 'JOB_TENANT_MISSING'
  /** The payload's tenant id failed validation. */
  | 'JOB_TENANT_INVALID'
  /** The payload is not an object, so it cannot carry a tenant. */
  | 'JOB_PAYLOAD_INVALID'

const brand = Symbol.for('tenantscope:JobTenantError')

/**
 * Thrown when a job cannot be run for a tenant, before the handler is
 * called. Queues record it as the job's failure. The message never contains
 * the payload or the id. A TenantScopeError, so one `catch` covers both.
 */
export class JobTenantError extends TenantScopeError {
  override readonly name: string = 'JobTenantError'
  declare readonly code: JobTenantErrorCode
  readonly [brand] = true

  constructor(code: JobTenantErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }

  /** True for a JobTenantError from any installed copy of tenantscope. */
  static override is(error: unknown, code?: JobTenantErrorCode): error is JobTenantError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as { [brand]?: unknown })[brand] === true &&
      (code === undefined || (error as JobTenantError).code === code)
    )
  }
}
