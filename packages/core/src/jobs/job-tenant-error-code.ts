/** Why a job was refused: it is never run under any tenant. */
export type JobTenantErrorCode =
  /** The payload carries no tenant (enqueued outside `withTenant`, or by hand). */
  | 'JOB_TENANT_MISSING'
  /** The payload's tenant id failed validation. */
  | 'JOB_TENANT_INVALID'
  /** The payload is not an object, so it cannot carry a tenant. */
  | 'JOB_PAYLOAD_INVALID'
