import { brandError } from '../_branded-error.js'

/** Why a request got no tenant: each code has one HTTP status. */
export type TenantResolutionCode =
  /** No credentials, or credentials that do not verify: 401. */
  | 'UNAUTHENTICATED'
  /** The principal is known but may not act for the requested tenant: 403. */
  | 'TENANT_FORBIDDEN'
  /** The tenant id is not a valid id (e.g. not a UUID): 400. */
  | 'INVALID_TENANT_ID'

/** @internal The HTTP status of each refusal. */
export const RESOLUTION_STATUS: Record<TenantResolutionCode, 400 | 401 | 403> = {
  UNAUTHENTICATED: 401,
  TENANT_FORBIDDEN: 403,
  INVALID_TENANT_ID: 400,
}

/**
 * Thrown by a `resolveTenant` function to refuse a request. The adapters turn
 * it into a JSON response with its `status`; the message is sent to the
 * client, so it must never contain a token, a tenant id or a stack.
 * @example throw new TenantResolutionError('TENANT_FORBIDDEN', 'This user is not a member of that tenant')
 */
export class TenantResolutionError extends Error {
  override readonly name = 'TenantResolutionError'
  readonly code: TenantResolutionCode
  readonly status: 400 | 401 | 403

  constructor(code: TenantResolutionCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.status = RESOLUTION_STATUS[code]
  }

  /** True for a TenantResolutionError from any installed copy of tenantscope. */
  static is(error: unknown, code?: TenantResolutionCode): error is TenantResolutionError {
    return isTenantResolutionError(error, code)
  }
}

const isTenantResolutionError = brandError(TenantResolutionError, 'TenantResolutionError')
