import type { IncomingMessage, ServerResponse } from 'node:http'
import { withTenant } from '@tenantscope/core'
import { overloadResponse } from './overload-response.js'
import { readRequestOptions } from './request-options.js'
import { type RequestTenantOutcome, resolveWithChecked, type TenantRequestOptions } from './resolve-request.js'

export type { TenantRequestOptions } from './resolve-request.js'

/** Express (4 and 5), Connect and Polka middleware signature. */
export type TenantMiddleware<Req> = (request: Req, response: ServerResponse, next: (error?: unknown) => void) => void

/**
 * Express middleware: resolves the tenant of each request and runs the rest
 * of the request (later middleware and the route) inside `withTenant`.
 * Refusals answer JSON: 401 without credentials, 403 for a tenant the
 * principal may not use, 400 for a malformed tenant id. No database
 * connection is taken here: the TenantPool takes one per statement or
 * transaction, so a slow request never pins a connection.
 * @example
 * app.use(express.json())
 * app.use(tenantMiddleware({ resolveTenant: jwtTenant({ secret: process.env.JWT_SECRET! }) }))
 * app.get('/projects', async (req, res) => res.json((await pool.query('SELECT * FROM projects')).rows))
 */
export function tenantMiddleware<Req extends IncomingMessage = IncomingMessage>(options: TenantRequestOptions<Req>): TenantMiddleware<Req> {
  const checked = readRequestOptions<Req>('tenantMiddleware', options)
  return (request, response, next) => {
    resolveWithChecked(checked, request).then((outcome) => {
      if (!outcome.ok) return sendRefusal(response, outcome)
      // next() runs the following handlers synchronously, so they and all
      // their async continuations inherit the tenant context.
      withTenant(outcome.tenantId, () => next(), { settings: outcome.settings }).catch(next)
    }, next)
  }
}

function sendRefusal(response: ServerResponse, outcome: Extract<RequestTenantOutcome, { ok: false }>): void {
  if (response.headersSent) return
  response.statusCode = outcome.status
  for (const [name, value] of Object.entries(outcome.headers)) response.setHeader(name, value)
  response.end(JSON.stringify(outcome.body))
}

/** Express error-handling middleware signature. */
export type TenantErrorHandler<Req> = (error: unknown, request: Req, response: ServerResponse, next: (error?: unknown) => void) => void

/**
 * Express error handler: answers TENANT_OVERLOADED (the fair queue refused
 * the request, see the pool's `fairness` option) with 429 and `Retry-After`,
 * and passes every other error on. Register it after your routes.
 * @example
 * app.use(router)
 * app.use(tenantErrorHandler())
 */
export function tenantErrorHandler<Req extends IncomingMessage = IncomingMessage>(): TenantErrorHandler<Req> {
  // Express tells error handlers apart by their four parameters.
  return function tenantErrorHandler(error, _request, response, next) {
    const overload = overloadResponse(error)
    if (!overload || response.headersSent) return next(error)
    response.statusCode = overload.status
    for (const [name, value] of Object.entries(overload.headers)) response.setHeader(name, value)
    response.end(JSON.stringify(overload.body))
  }
}
