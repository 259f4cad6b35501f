import { TenantScopeError } from './errors.js'

/** Why a tenant's request was refused by the fair queue. */
export type OverloadReason =
  /** The tenant already had as many requests waiting as it may. */
  | 'queue_full'
  /** The request waited for a connection longer than the tenant may. */
  | 'wait_timeout'

/**
 * `TENANT_OVERLOADED`: the tenant's share of the pool is used up. Nothing was
 * sent; the caller may retry after `retryAfter` seconds. The HTTP helpers
 * answer it with 429 and a `Retry-After` header.
 * @example
 * if (TenantScopeError.is(error, 'TENANT_OVERLOADED')) res.status(429).set('retry-after', String(error.retryAfter))
 */
export class TenantOverloadError extends TenantScopeError {
  override readonly name = 'TenantOverloadError'
  readonly reason: OverloadReason
  /** Seconds after which a retry is likely to be admitted (at least 1). */
  readonly retryAfter: number

  constructor(reason: OverloadReason, retryAfter: number) {
    super(
      'TENANT_OVERLOADED',
      reason === 'queue_full'
        ? "The tenant's queue for database connections is full: retry later"
        : 'The request waited too long for a database connection: retry later',
    )
    this.reason = reason
    this.retryAfter = retryAfter
  }

  /** The retry-after hint of a TENANT_OVERLOADED error from any copy of tenantscope, else undefined. */
  static retryAfterOf(error: unknown): number | undefined {
    if (!TenantScopeError.is(error, 'TENANT_OVERLOADED')) return undefined
    const { retryAfter } = error as Partial<TenantOverloadError>
    return typeof retryAfter === 'number' && retryAfter >= 1 ? Math.ceil(retryAfter) : 1
  }
}
