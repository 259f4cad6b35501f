import { TenantOverloadError } from '@tenantscope/core'

/** A 429 answer for a TENANT_OVERLOADED error. */
export interface OverloadResponse {
  status: 429
  headers: Record<string, string>
  body: { error: { code: 'TENANT_OVERLOADED'; message: string } }
}

/**
 * The 429 answer for a TENANT_OVERLOADED error (from any installed copy of
 * tenantscope), with `Retry-After` in seconds; undefined for any other error.
 * The adapters use it; call it from your own error handler if you have one.
 * @example
 * app.setErrorHandler((error, request, reply) => {
 *   const overload = overloadResponse(error)
 *   if (overload) return reply.code(overload.status).headers(overload.headers).send(overload.body)
 *   ...
 * })
 */
export function overloadResponse(error: unknown): OverloadResponse | undefined {
  const retryAfter = TenantOverloadError.retryAfterOf(error)
  if (retryAfter === undefined) return undefined
  return {
    status: 429,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'retry-after': String(retryAfter) },
    body: { error: { code: 'TENANT_OVERLOADED', message: 'Too many requests for this tenant: retry later' } },
  }
}
