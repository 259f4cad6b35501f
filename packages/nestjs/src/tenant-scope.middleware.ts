import type { IncomingMessage, ServerResponse } from 'node:http'
import { HttpException, Inject, Injectable, type NestMiddleware } from '@nestjs/common'
import { withTenant } from '@tenantscope/core'
import { resolveRequestTenant } from '@tenantscope/core/http'
import type { TenantScopeModuleOptions } from './options.js'
import { TENANT_SCOPE_OPTIONS } from './tokens.js'

/**
 * Resolves the request's tenant and runs the rest of the request inside
 * `withTenant`. A middleware, not a guard or an interceptor: `next()` runs
 * the guards, interceptors, pipes and the handler from inside the
 * AsyncLocalStorage context, so all of them, and everything they await, see
 * the tenant. (An interceptor's Observable may run its subscribers outside
 * the context it was created in.)
 *
 * A refusal (401 without credentials, 403, 400 for a malformed id) is thrown
 * as an `HttpException` carrying the same JSON body as the other adapters,
 * so your exception filters see it. No connection is taken here.
 */
@Injectable()
export class TenantScopeMiddleware implements NestMiddleware<IncomingMessage, ServerResponse> {
  // @Inject with an explicit token: works without emitDecoratorMetadata (esbuild, Vitest, SWC without metadata).
  constructor(@Inject(TENANT_SCOPE_OPTIONS) private readonly options: TenantScopeModuleOptions) {}

  async use(request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void): Promise<void> {
    // Only the request options: the module's own (pool, routes) are not the resolver's.
    const { resolveTenant, parseTenantId } = this.options
    const outcome = await resolveRequestTenant({ resolveTenant, ...(parseTenantId ? { parseTenantId } : {}) }, request)
    if (!outcome.ok) {
      for (const [name, value] of Object.entries(outcome.headers)) response.setHeader(name, value)
      throw new HttpException(outcome.body, outcome.status)
    }
    withTenant(outcome.tenantId, () => next(), { settings: outcome.settings }).catch(next)
  }
}
