import type pg from 'pg'
import { isReadyForQuery, watchSyncs, type PgConnection } from './_pg-internals.js'
import { TenantScopeError } from './errors.js'
import { isActivityTag } from './activity-tag.js'
import { hasSessionState, markSessionState } from './session-state.js'
import { StatementWrapper } from './statement-wrapper.js'

/**
 * @internal What a physical connection is doing, from the ReadyForQuery
 * status byte: 'I' idle, 'T' in a transaction, 'E' in a failed transaction;
 * 'broken' once the connection errored or ended.
 */
export type ConnectionState = 'I' | 'T' | 'E' | 'broken'

interface Slot {
  state: ConnectionState
  /** A plain BEGIN went out without the setter: the transaction's first statement carries it. */
  setterPending: boolean
  /** A Sync (or simple Query) went out that no ReadyForQuery has answered yet. */
  syncInFlight: boolean
  /** The activity tag was reported: the next application_name report is its revert at the end of the transaction. */
  tagged: boolean
}

const states = new WeakMap<pg.ClientBase, Slot>()

// pg's Client internals read here; renamed with a leading underscore in pg 8.20.
interface ClientInternals {
  connection?: PgConnection
  _activeQuery?: unknown
  activeQuery?: unknown
  _queryQueue?: unknown[]
  queryQueue?: unknown[]
  _queryable?: boolean
  getTransactionStatus?: () => string | null
}

/**
 * @internal Starts tracking a client once; cheap to call on every checkout.
 * Throws INVALID_CONFIG for a pool that does not hand out pg clients.
 */
export function trackConnection(client: pg.ClientBase): void {
  if (states.has(client)) return
  const internals = client as unknown as ClientInternals
  const connection = internals.connection
  if (typeof connection?.prependListener !== 'function') {
    throw new TenantScopeError('INVALID_CONFIG', 'The wrapped pool must hand out pg clients (pg.Client); wrap a pg.Pool')
  }
  const slot: Slot = { state: toState(internals.getTransactionStatus?.() ?? 'I'), setterPending: false, syncInFlight: false, tagged: false }
  states.set(client, slot)
  // Prepended: pg's own handler starts the next queued query, which must see the new state.
  connection.prependListener('readyForQuery', (message) => {
    slot.syncInFlight = false
    slot.state = toState(message.status)
    if (slot.state === 'I') slot.setterPending = false
  })
  watchSyncs(connection, () => {
    slot.syncInFlight = true
  })
  // A reported setting changed (SET TimeZone, SET SESSION AUTHORIZATION, ...)
  // by a tenant's statement: see session-state.ts. Not by a query of the
  // pool's own 'connect' hook (a plain pg query, maybe still running at the
  // first checkout): that state belongs to every borrower.
  ;(connection as unknown as EventEmitterLike).on('parameterStatus', (message) => {
    if (!(activeQuery(client) instanceof StatementWrapper)) return
    // The pool's activityTag sets application_name transaction-locally: the
    // server reports the tag, then the original value when the transaction
    // ends. Neither outlives the transaction.
    if (message?.parameterName === 'application_name') {
      if (isActivityTag(message.parameterValue)) {
        slot.tagged = true
        return
      }
      if (slot.tagged) {
        slot.tagged = false
        return
      }
    }
    markSessionState(connection)
  })
  const markBroken = () => {
    slot.state = 'broken'
  }
  // While checked out, a dead connection must not crash the process: the
  // query that was using it rejects, and the connection is then destroyed.
  client.on('error', markBroken)
  client.on('end', markBroken)
}

interface EventEmitterLike {
  on(event: string, listener: (message?: { parameterName?: string; parameterValue?: string }) => void): unknown
}

function toState(status: string | null): ConnectionState {
  return status === 'T' || status === 'E' ? status : 'I'
}

/** @internal */
export function connectionState(client: pg.ClientBase): ConnectionState {
  return states.get(client)?.state ?? 'I'
}

/** @internal Marks that the open transaction has not received the setter yet. */
export function setSetterPending(client: pg.ClientBase, pending: boolean): void {
  const slot = states.get(client)
  if (slot) slot.setterPending = pending
}

/** @internal */
export function isSetterPending(client: pg.ClientBase): boolean {
  return states.get(client)?.setterPending ?? false
}

/**
 * @internal True when handing the connection back could pass on a
 * transaction, a statement still running or queued, a protocol exchange
 * that will never end (see isStuck), a broken socket, or
 * session state that application SQL left (see session-state.ts).
 */
export function mustDestroy(client: pg.ClientBase, error?: unknown): boolean {
  if (connectionState(client) !== 'I' || isBusy(client) || isStuck(client)) return true
  const { connection } = client as unknown as ClientInternals
  if (connection !== undefined && hasSessionState(connection)) return true
  if (error === undefined || TenantScopeError.is(error)) return false
  // Server errors end with a ReadyForQuery and leave the connection clean,
  // except those that end the session. Anything else (timeouts, socket
  // errors) leaves it in an unknown state.
  return !isServerError(error) || endsSession(error as { severity?: string; code?: string })
}

function activeQuery(client: pg.ClientBase): unknown {
  const internals = client as unknown as ClientInternals
  return '_activeQuery' in internals ? internals._activeQuery : internals.activeQuery
}

// A statement still running, or queued, would run for whoever borrows the
// connection next. (After an error pg clears the active query before the
// ReadyForQuery arrives; the next borrower's statement waits for it, so that
// window is safe, as long as a Sync is on the wire: see isStuck.)
function isBusy(client: pg.ClientBase): boolean {
  const internals = client as unknown as ClientInternals
  const active = activeQuery(client)
  const queue = internals._queryQueue ?? internals.queryQueue
  return Boolean(active) || (queue?.length ?? 0) > 0 || internals._queryable === false
}

// pg waits for a ReadyForQuery that nothing will bring: after an error in
// the extended protocol PostgreSQL skips everything up to a Sync, and none is
// on the wire (a query in portal mode, `rows`, fails before its Sync). The
// next borrower's statement would wait for ever.
function isStuck(client: pg.ClientBase): boolean {
  return !isReadyForQuery(client) && states.get(client)?.syncInFlight === false
}

function isServerError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'severity' in error && 'code' in error
}

// FATAL/PANIC, admin shutdown (57P..), connection exceptions (08...).
function endsSession({ severity, code }: { severity?: string; code?: string }): boolean {
  return severity === 'FATAL' || severity === 'PANIC' || /^(57P|08)/.test(code ?? '')
}
