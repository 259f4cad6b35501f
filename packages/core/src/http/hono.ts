import { withTenant } from '@tenantscope/core'
import { overloadResponse } from './overload-response.js'
import { readRequestOptions } from './request-options.js'
import { resolveWithChecked, type TenantRequestOptions } from './resolve-request.js'

export type { TenantRequestOptions } from './resolve-request.js'

/** The slice of a Hono context the middleware uses. */
export interface HonoContextLike {
  req: { header(name: string): string | undefined }
  json(body: unknown, status?: any, headers?: Record<string, string>): Response
  /** Set by Hono when a later handler threw (read after `next()`). */
  error?: unknown
  res?: Response
}

/**
 * Hono middleware: resolves the tenant from the context and runs the rest of
 * the chain inside `withTenant`. The built-in resolvers read headers from a
 * Hono context directly. A TENANT_OVERLOADED thrown by a later handler (the
 * pool's fair queue refused it) is answered with 429 and `Retry-After`.
 * @example app.use('/api/*', tenantMiddleware({ resolveTenant: jwtTenant({ secret }) }))
 */
export function tenantMiddleware<C extends HonoContextLike = HonoContextLike>(
  options: TenantRequestOptions<C>,
): (context: C, next: () => Promise<void>) => Promise<Response | void> {
  const checked = readRequestOptions<C>('tenantMiddleware', options)
  return async (context, next) => {
    const outcome = await resolveWithChecked(checked, context)
    if (!outcome.ok) return context.json(outcome.body, outcome.status, outcome.headers)
    // Hono awaits the rest of the chain inside next(): the whole of it runs
    // in the tenant context.
    await withTenant(outcome.tenantId, () => next(), { settings: outcome.settings })
    // Hono catches a handler's error inside next() and keeps it on the context.
    const overload = overloadResponse(context.error)
    if (overload) context.res = context.json(overload.body, overload.status, overload.headers)
  }
}
