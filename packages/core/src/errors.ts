import { brandError } from './_branded-error.js'
import type { JobTenantErrorCode } from './jobs/job-tenant-error-code.js'

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

/** Every code a TenantScopeError can carry: its own, and those of its subclass JobTenantError (`@tenantscope/core/jobs`). */
type AnyTenantScopeErrorCode = TenantScopeErrorCode | JobTenantErrorCode

/**
 * The one error class of tenantscope. Database errors are never wrapped
 * (their SQLSTATE `code` survives); these are tenantscope's own refusals.
 * Messages never contain tenant ids or query parameters.
 */
export class TenantScopeError extends Error {
  override readonly name: string = 'TenantScopeError'
  /** A JobTenantError (a subclass) carries a JobTenantErrorCode instead. */
  readonly code: AnyTenantScopeErrorCode

  constructor(code: AnyTenantScopeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }

  /** True for a TenantScopeError (or a subclass) from any installed copy of tenantscope. */
  static is(error: unknown, code?: AnyTenantScopeErrorCode): error is TenantScopeError {
    return isTenantScopeError(error, code)
  }
}

const isTenantScopeError = brandError(TenantScopeError, 'TenantScopeError')
