import { withTenant } from '@tenantscope/core'
import { overloadResponse } from './overload-response.js'
import { readRequestOptions } from './request-options.js'
import { resolveWithChecked, type TenantRequestOptions } from './resolve-request.js'

export type { TenantRequestOptions } from './resolve-request.js'

/** The slice of a Fastify reply the hook uses (v4 and v5). */
export interface FastifyReplyLike {
  code(status: number): this
  headers(values: Record<string, string>): this
  send(payload?: unknown): this
}

/** Fastify's callback-style hook signature. */
export type TenantHook<Req> = (request: Req, reply: FastifyReplyLike, done: (error?: Error) => void) => void

/**
 * A Fastify `preHandler` hook: resolves the tenant and runs the route handler
 * inside `withTenant`. It is a callback-style hook on purpose: Fastify calls
 * the handler from `done()`, so the handler inherits the context (an async
 * hook's context would end when its promise resolves). It runs after body
 * parsing, whose stream events would otherwise lose the context.
 * @example app.addHook('preHandler', tenantHook({ resolveTenant: jwtTenant({ secret }) }))
 */
export function tenantHook<Req = { headers: Record<string, string | string[] | undefined> }>(
  options: TenantRequestOptions<Req>,
): TenantHook<Req> {
  const checked = readRequestOptions<Req>('tenantHook', options)
  return (request, reply, done) => {
    resolveWithChecked(checked, request).then(
      (outcome) => {
        if (!outcome.ok) {
          reply.code(outcome.status).headers(outcome.headers).send(JSON.stringify(outcome.body))
          return
        }
        withTenant(outcome.tenantId, () => done(), { settings: outcome.settings }).catch((error: Error) => done(error))
      },
      (error: Error) => done(error),
    )
  }
}

/** The slice of a Fastify instance the plugin uses. */
export interface FastifyInstanceLike {
  addHook(name: 'preHandler', hook: TenantHook<any>): unknown
}

/**
 * A Fastify plugin registering `tenantHook` for every route of the instance
 * it is registered on (it is not encapsulated, like fastify-plugin).
 * Register it inside a child scope to protect only some routes.
 * @example await app.register(tenantScope, { resolveTenant: jwtTenant({ secret }) })
 */
export const tenantScope = Object.assign(
  function tenantScope(instance: FastifyInstanceLike, options: TenantRequestOptions<any>, done: (error?: Error) => void): void {
    instance.addHook('preHandler', tenantHook(withoutRegisterOptions(options) as TenantRequestOptions<any>))
    done()
  },
  { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: '@tenantscope/core/fastify' },
)

// Fastify hands a plugin the object given to register(), which also holds
// register's own options; those are Fastify's, not a typo of ours.
const REGISTER_OPTIONS = new Set(['prefix', 'logLevel', 'logSerializers'])

function withoutRegisterOptions(options: unknown): unknown {
  if (typeof options !== 'object' || options === null) return options
  return Object.fromEntries(Object.entries(options).filter(([key]) => !REGISTER_OPTIONS.has(key)))
}

/** Fastify's error handler signature, as `setErrorHandler` takes it (`this` is the instance). */
export type TenantErrorHandler = (this: { errorHandler?: TenantErrorHandler }, error: any, request: any, reply: any) => unknown

/**
 * A Fastify error handler: answers TENANT_OVERLOADED (the fair queue refused
 * the request, see the pool's `fairness` option) with 429 and `Retry-After`,
 * and hands every other error to `fallback`, or to Fastify's default handler.
 * @example app.setErrorHandler(tenantErrorHandler())
 */
export function tenantErrorHandler(fallback?: TenantErrorHandler): TenantErrorHandler {
  return function tenantErrorHandler(error, request, reply) {
    const overload = overloadResponse(error)
    if (overload) return reply.code(overload.status).headers(overload.headers).send(JSON.stringify(overload.body))
    const next = fallback ?? this.errorHandler
    if (next) return next.call(this, error, request, reply)
    return reply.send(error)
  }
}
