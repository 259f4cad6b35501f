import { TenantScopeError } from '@tenantscope/core'
import type { TenantEntry } from './directory-entry.js'

/** @internal The states in which the database refuses the tenant's writes (`transaction_read_only`). */
export function refusesWrites(entry: TenantEntry | undefined): boolean {
  return entry?.state === 'read_only' || entry?.state === 'moving'
}

/**
 * @internal A 25006 (a write refused in a read-only transaction) as the typed
 * error of the tenant's state, the original as `cause`: `TENANT_READ_ONLY` for
 * a read-only tenant, `TENANT_UNAVAILABLE` (retry later) for a moving one. Any
 * other error as it is.
 */
export function refusal(entry: TenantEntry | undefined, error: unknown): unknown {
  if ((error as { code?: unknown } | null)?.code !== '25006') return error
  if (entry?.state === 'read_only') {
    return new TenantScopeError('TENANT_READ_ONLY', 'The tenant is read-only: writes are refused', { cause: error })
  }
  if (entry?.state === 'moving') {
    return new TenantScopeError('TENANT_UNAVAILABLE', 'The tenant is moving: writes are refused for now, retry later', { cause: error })
  }
  return error
}

type QueryFn = (input: unknown, values?: unknown, callback?: unknown) => unknown

/**
 * @internal Makes a checked-out client's `query` report a read-only or moving
 * tenant's refused write as router.query does, in the promise and the callback forms.
 * `entryNow` is asked when the error arrives: the entry the connection's
 * setter used (the state may have changed since the checkout). Query objects
 * (pg-cursor, pg-query-stream) are passed through untouched: their errors
 * reach their own events and callback, which the caller wired up.
 */
export function refuseReadOnlyWrites(client: { query: unknown }, entryNow: () => TenantEntry | undefined): void {
  const query = (client.query as QueryFn).bind(client)
  client.query = function routedQuery(input: unknown, values?: unknown, callback?: unknown): unknown {
    if (typeof (input as { submit?: unknown } | null)?.submit === 'function') return query(input, values, callback)
    if (typeof values === 'function') {
      callback = values
      values = undefined
    }
    const promise = (query(input, values) as Promise<unknown>).catch((error: unknown) => {
      throw refusal(entryNow(), error)
    })
    if (typeof callback !== 'function') return promise
    promise.then(
      (result) => callback(null, result),
      (error: unknown) => callback(error),
    )
    return undefined
  }
}
