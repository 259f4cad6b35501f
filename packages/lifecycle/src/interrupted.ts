import { TenantLifecycleError } from './lifecycle-error.js'

/**
 * @internal A lost connection (the server ended it, the socket closed) as an
 * INTERRUPTED error that says what state the work was left in; any other
 * error as it is.
 */
export function asInterrupted(error: unknown, state: string): unknown {
  if (TenantLifecycleError.is(error)) return error
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  const lost =
    (typeof code === 'string' && /^(57P0[123]|08...|ECONNRESET|EPIPE|ECONNREFUSED)$/.test(code)) ||
    (typeof message === 'string' && /Connection terminated|connection is closed|Client has encountered a connection error/i.test(message))
  return lost ? new TenantLifecycleError('INTERRUPTED', `${state}`, { cause: error }) : error
}
