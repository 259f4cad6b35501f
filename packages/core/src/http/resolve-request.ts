import { type TenantIdParser, TenantScopeError, type TenantSettings, uuidTenantId } from '@tenantscope/core'
import { checkTenantId } from '../_check-tenant-id.js'
import { isRecord, ownValue } from '../_options.js'
import { readRequestOptions } from './request-options.js'
import { RESOLUTION_STATUS, type TenantResolutionCode, TenantResolutionError } from './resolution-error.js'
import type { TenantResolver } from './tenant-resolver.js'

export interface TenantRequestOptions<Req> {
  /** Finds the tenant of a request (see `jwtTenant`, `trustedHeaderTenant`). */
  resolveTenant: TenantResolver<Req>
  /**
   * Validates the resolved id before the request goes on; a rejected id
   * answers 400. Use the same parser as your TenantPool.
   * @default uuidTenantId
   */
  parseTenantId?: TenantIdParser
}

/** The JSON body of a refused request. No stack, no token, no tenant id. */
export interface TenantErrorBody {
  error: { code: TenantResolutionCode; message: string }
}

export type RequestTenantOutcome =
  | { ok: true; tenantId: string; settings: TenantSettings | undefined }
  | { ok: false; status: 400 | 401 | 403; body: TenantErrorBody; headers: Record<string, string> }

/**
 * The framework-free core of every adapter: resolves and validates the
 * tenant of one request. Errors that are not refusals (a resolver bug, a
 * JWKS endpoint down) are thrown for the framework's error handler.
 * @example
 * const outcome = await resolveRequestTenant({ resolveTenant }, req)
 * if (!outcome.ok) return reply(outcome.status, outcome.body)
 * return withTenant(outcome.tenantId, handler, { settings: outcome.settings })
 */
export async function resolveRequestTenant<Req>(options: TenantRequestOptions<Req>, request: Req): Promise<RequestTenantOutcome> {
  return resolveWithChecked(readRequestOptions<Req>('resolveRequestTenant', options), request)
}

/** @internal resolveRequestTenant with options already checked (the adapters check them once). */
export async function resolveWithChecked<Req>(options: TenantRequestOptions<Req>, request: Req): Promise<RequestTenantOutcome> {
  let resolution
  try {
    resolution = await options.resolveTenant(request)
  } catch (error) {
    if (TenantResolutionError.is(error)) return refusal(error.code, error.message)
    if (TenantScopeError.is(error, 'INVALID_TENANT_ID')) return refusal('INVALID_TENANT_ID', 'The tenant id is not valid')
    throw error
  }
  if (resolution === undefined || resolution === null) {
    return refusal('UNAUTHENTICATED', 'Authentication required')
  }
  // Own properties only: a tenantId or settings inherited from a polluted
  // Object.prototype is not the resolver's answer.
  const raw = typeof resolution === 'string' ? resolution : isRecord(resolution) ? ownValue(resolution, 'tenantId') : undefined
  const settings = typeof resolution === 'string' || !isRecord(resolution) ? undefined : ownValue(resolution, 'settings')
  const checked = checkTenantId(options.parseTenantId ?? uuidTenantId, raw)
  if (!checked.ok) return refusal('INVALID_TENANT_ID', 'The tenant id is not valid')
  return { ok: true, tenantId: checked.tenantId, settings: settings as TenantSettings | undefined }
}

function refusal(code: TenantResolutionCode, message: string): RequestTenantOutcome {
  const status = RESOLUTION_STATUS[code]
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }
  if (status === 401) headers['www-authenticate'] = 'Bearer'
  return { ok: false, status, body: { error: { code, message } }, headers }
}
