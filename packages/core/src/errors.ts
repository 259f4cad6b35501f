/** Stable codes: match on `error.code`, never on the message. */
export type TenantScopeErrorCode =
  /** A tenant-scoped query ran outside `withTenant`: refused before anything was sent. */
  | 'TENANT_CONTEXT_MISSING'
  /** The tenant id failed validation: refused before anything was sent. */
  | 'INVALID_TENANT_ID'
  /** A client or transaction bound to one tenant was used from inside another tenant's context. */
  | 'TENANT_MISMATCH'
  /** A client was used after `release()`: its connection may already serve someone else. */
  | 'CLIENT_RELEASED'
  /** Several statements in one query string, which a scoped single-statement query cannot carry. */
  | 'MULTI_STATEMENT_QUERY'
  /** COMMIT found the transaction already failed; PostgreSQL rolled it back. */
  | 'TRANSACTION_ROLLED_BACK'
  /** An extra setting name or value that cannot be sent. */
  | 'INVALID_SETTING'
  /** A pool configuration that cannot work (e.g. a malformed connection string). */
  | 'INVALID_CONFIG'
  /** A job payload carries no tenant (`@tenantscope/core/jobs`): the job is not run. */
  | 'JOB_TENANT_MISSING'
  /** A job payload's tenant id failed validation: the job is not run. */
  | 'JOB_TENANT_INVALID'
  /** A job payload is not an object, so it cannot carry a tenant: the job is not run. */
  | 'JOB_PAYLOAD_INVALID'
  /** `@tenantscope/router`: the directory has no entry for the tenant; nothing was sent (never a fallback to a shared pool). */
  | 'TENANT_UNKNOWN'
  /** `@tenantscope/router`: the tenant is read-only and the statement tried to write. */
  | 'TENANT_READ_ONLY'
  /** `@tenantscope/router`: the tenant is moving or suspended; nothing was sent. Retry later. */
  | 'TENANT_UNAVAILABLE'
  /** `@tenantscope/router`: every connection under the cap stayed busy past the wait limit. Retry later. */
  | 'TENANT_POOL_EXHAUSTED'
  /** `@tenantscope/router`: a migration that already ran was edited (its checksum differs). */
  | 'MIGRATION_CHECKSUM_MISMATCH'
  /** `@tenantscope/router`: a migration failed on one or more targets (see the error's details). */
  | 'MIGRATION_FAILED'

const brand = Symbol.for('tenantscope:TenantScopeError')

/**
 * The one error class of tenantscope. Database errors are never wrapped
 * (their SQLSTATE `code` survives); these are tenantscope's own refusals.
 * Messages never contain tenant ids or query parameters.
 */
export class TenantScopeError extends Error {
  override readonly name: string = 'TenantScopeError'
  readonly code: TenantScopeErrorCode
  readonly [brand] = true

  constructor(code: TenantScopeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }

  /** True for a TenantScopeError from any installed copy of tenantscope. */
  static is(error: unknown, code?: TenantScopeErrorCode): error is TenantScopeError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as { [brand]?: unknown })[brand] === true &&
      (code === undefined || (error as TenantScopeError).code === code)
    )
  }
}
