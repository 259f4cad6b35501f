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

/** JSON errors, no stack: unknown errors become a bare 500 and are logged. */
export function errorHandler(log: (error: unknown) => void) {
  return (error: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    if (error instanceof HttpError) {
      res.status(error.status).json({ error: { code: error.code, message: error.message } })
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
