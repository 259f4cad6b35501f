import { TenantScopeError } from '@tenantscope/core'
import type { NextFunction, Request, Response } from 'express'

/** An error with an HTTP status and a message safe to show to the client. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export const notFound = (what: string) => new HttpError(404, 'NOT_FOUND', `${what} not found`)
export const badRequest = (message: string) => new HttpError(400, 'BAD_REQUEST', message)

// The router's refusals, whatever kind of tenant: each has one status, and
// its code goes to the client as is (the messages hold no tenant id).
const TENANT_STATUS: Record<string, { status: number; retryAfter?: string }> = {
  // A valid token for a tenant this service has no directory entry for.
  TENANT_UNKNOWN: { status: 403 },
  // The tenant is read-only (an export, a move): reads work, this write may later.
  TENANT_READ_ONLY: { status: 409 },
  // The tenant is moving or suspended, or its database has no free connection.
  TENANT_UNAVAILABLE: { status: 503, retryAfter: '5' },
  TENANT_POOL_EXHAUSTED: { status: 503, retryAfter: '1' },
}

/** JSON errors, no stack: unknown errors become a bare 500 and are logged. */
export function errorHandler(log: (error: unknown) => void) {
  return (error: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    if (error instanceof HttpError) {
      res.status(error.status).json({ error: { code: error.code, message: error.message } })
      return
    }
    // Drizzle wraps driver errors: the refusal may be the error's cause.
    const refusal = TenantScopeError.from(error)
    const mapped = refusal ? TENANT_STATUS[refusal.code] : undefined
    if (refusal && mapped) {
      if (mapped.retryAfter) res.set('retry-after', mapped.retryAfter)
      res.status(mapped.status).json({ error: { code: refusal.code, message: refusal.message } })
      return
    }
    const status = (error as { status?: unknown })?.status
    if (status === 400 || status === 413) {
      // body-parser: malformed or too large JSON
      res.status(status).json({ error: { code: 'BAD_REQUEST', message: 'The request body is not valid JSON' } })
      return
    }
    log(error)
    res.status(500).json({ error: { code: 'INTERNAL', message: 'Internal server error' } })
  }
}
