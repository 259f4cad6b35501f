import type pg from 'pg'
import type { PgConnection } from './_pg-internals.js'
import { TenantScopeError } from './errors.js'

/**
 * @internal What a physical connection is doing, from the ReadyForQuery
 * status byte: 'I' idle, 'T' in a transaction, 'E' in a failed transaction;
 * 'broken' once the connection errored or ended.
 */
export type ConnectionState = 'I' | 'T' | 'E' | 'broken'

const states = new WeakMap<pg.ClientBase, { state: ConnectionState }>()

/** @internal Starts tracking a client once; cheap to call on every checkout. */
export function trackConnection(client: pg.ClientBase): void {
  if (states.has(client)) return
  const slot: { state: ConnectionState } = { state: 'I' }
  states.set(client, slot)
  const connection = (client as unknown as { connection: PgConnection }).connection
  // Prepended: pg's own handler starts the next queued query, which must see the new state.
  connection.prependListener('readyForQuery', (message) => {
    slot.state = message.status === 'T' || message.status === 'E' ? message.status : 'I'
  })
  const markBroken = () => {
    slot.state = 'broken'
  }
  // While checked out, a dead connection must not crash the process: the
  // query that was using it rejects, and the connection is then destroyed.
  client.on('error', markBroken)
  client.on('end', markBroken)
}

/** @internal */
export function connectionState(client: pg.ClientBase): ConnectionState {
  return states.get(client)?.state ?? 'I'
}

/** @internal True when handing the connection back could pass on a transaction or a broken socket. */
export function mustDestroy(client: pg.ClientBase, error?: unknown): boolean {
  if (connectionState(client) !== 'I') return true
  // Errors from the server (with SQLSTATE) end with a ReadyForQuery: the
  // connection is clean. Anything else (timeouts, socket errors) is not known to be.
  return error !== undefined && !isServerError(error) && !TenantScopeError.is(error)
}

function isServerError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'severity' in error && 'code' in error
}
