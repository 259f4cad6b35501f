import type pg from 'pg'
import {
  activeQueryOf,
  connectionOf,
  isClientBusy,
  isReadyForQuery,
  onReadyForQuery,
  supportsExtendedQueryMode,
  transactionStatusOf,
  usesPipelineMode,
  watchSyncs,
} from './_pg-internals.js'
import { isActivityTag } from './activity-tag.js'
import { TenantScopeError } from './errors.js'
import { hasSessionState, markSessionState } from './session-state.js'
import { isTenantStatement } from './statement-wrapper.js'

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
  /** Settings a tenant's statement reported (ParameterStatus) since the last ReadyForQuery, judged at it. */
  reported: Map<string, string> | undefined
  /** Settings reported inside the open transaction: how many times. */
  inTransaction: Map<string, number> | undefined
  /** Values settings went back to at the end of a transaction: the session's own. */
  sessionValues: Map<string, string> | undefined
}

const states = new WeakMap<pg.ClientBase, Slot>()

/**
 * @internal Starts tracking a client once; cheap to call on every checkout.
 * Throws INVALID_CONFIG for a pool that does not hand out pg clients (of pg
 * 8.12 or later, not in pipeline mode).
 */
export function trackConnection(client: pg.ClientBase): void {
  if (states.has(client)) return
  const connection = connectionOf(client)
  if (connection === undefined) {
    throw new TenantScopeError('INVALID_CONFIG', 'The wrapped pool must hand out pg clients (pg.Client); wrap a pg.Pool')
  }
  if (!supportsExtendedQueryMode(client)) {
    throw new TenantScopeError(
      'INVALID_CONFIG',
      'tenantscope needs pg 8.12 or later (a statement without parameters must share the pipeline)',
    )
  }
  if (usesPipelineMode(client)) {
    throw new TenantScopeError('INVALID_CONFIG', "pg's pipeline mode refuses the query objects that carry the setter: leave `pipeline` off")
  }
  const slot: Slot = {
    state: toState(transactionStatusOf(client)),
    setterPending: false,
    syncInFlight: false,
    tagged: false,
    reported: undefined,
    inTransaction: undefined,
    sessionValues: undefined,
  }
  states.set(client, slot)
  // Prepended: pg's own handler starts the next queued query, which must see
  // the new state (and settle the statement only once its reports are judged).
  onReadyForQuery(connection, (status) => {
    slot.syncInFlight = false
    slot.state = toState(status)
    if (slot.state === 'I') slot.setterPending = false
    if ((slot.reported !== undefined || slot.inTransaction !== undefined) && reportsLeaveState(slot)) markSessionState(connection)
  })
  watchSyncs(connection, () => {
    slot.syncInFlight = true
  })
  // A reported setting changed (SET TimeZone, SET SESSION AUTHORIZATION, ...)
  // by a tenant's statement: see session-state.ts. Not by a query of the
  // pool's own 'connect' hook (a plain pg query, maybe still running at the
  // first checkout): that state belongs to every borrower.
  ;(connection as unknown as EventEmitterLike).on('parameterStatus', (message) => {
    // A tenant's statement; or, while a transaction holds its reports, the
    // end of that transaction (a ROLLBACK that the pool sends itself).
    if (slot.inTransaction === undefined && !isTenantStatement(activeQueryOf(client))) return
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
    if (message?.parameterName === undefined) return markSessionState(connection)
    ;(slot.reported ??= new Map()).set(message.parameterName, message.parameterValue ?? '')
  })
  const markBroken = () => {
    slot.state = 'broken'
  }
  // While checked out, a dead connection must not crash the process: the
  // query that was using it rejects, and the connection is then destroyed.
  client.on('error', markBroken)
  client.on('end', markBroken)
}

// A reported setting (since PostgreSQL 14 reported just before the
// ReadyForQuery, only when its value changed) is session state unless the
// end of the transaction takes it back: SET LOCAL inside an explicit
// transaction (PostgreSQL 18 reports search_path, which the router's schema
// setter sets so) is reported at a ReadyForQuery 'T', and again, reverted,
// at the 'I' of its COMMIT, or at the 'E' of the error that aborted it.
// Session state: a report at 'I' with none inside the transaction (a change
// in an implicit transaction, which outlived it); a report inside the
// transaction that is not taken back by its end; a take-back to another
// value than the session's own (once known from an earlier take-back at
// 'I'), or, while that is unknown, after the setting changed more than once
// in the transaction (a session change under a local one).
function reportsLeaveState(slot: Slot): boolean {
  const { reported } = slot
  slot.reported = undefined
  if (slot.state === 'T') {
    if (reported === undefined) return false
    const counts = (slot.inTransaction ??= new Map())
    for (const name of reported.keys()) counts.set(name, (counts.get(name) ?? 0) + 1)
    return false
  }
  const ended = slot.state === 'I'
  const counts = slot.inTransaction
  for (const [name, value] of reported ?? []) {
    const times = counts?.get(name)
    if (times === undefined) return true
    counts!.delete(name)
    const session = slot.sessionValues?.get(name)
    if (session === undefined ? times > 1 : session !== value) return true
    // After an error ('E') a savepoint may have taken back only its own part: learnt at 'I' only.
    if (ended) (slot.sessionValues ??= new Map()).set(name, value)
  }
  // After an error the transaction is still open (a ROLLBACK TO SAVEPOINT
  // goes on with it): what it did not take back is judged at its end.
  if (!ended) return false
  slot.inTransaction = undefined
  return counts !== undefined && counts.size > 0
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
 * @internal Inside a transaction (or a failed one) that has the setting:
 * connectionState 'T' or 'E' and no setter pending, in one lookup (the
 * direct path asks it for every statement of a transaction).
 */
export function hasScopedTransaction(client: pg.ClientBase): boolean {
  const slot = states.get(client)
  return slot !== undefined && (slot.state === 'T' || slot.state === 'E') && !slot.setterPending
}

/**
 * @internal True when handing the connection back could pass on a
 * transaction, a statement still running or queued (it would run for whoever
 * borrows the connection next), a protocol exchange that will never end (see
 * isStuck), a broken socket, or session state that application SQL left (see
 * session-state.ts).
 */
export function mustDestroy(client: pg.ClientBase, error?: unknown): boolean {
  if (connectionState(client) !== 'I' || isClientBusy(client) || isStuck(client)) return true
  const connection = connectionOf(client)
  if (connection !== undefined && hasSessionState(connection)) return true
  if (error === undefined || TenantScopeError.is(error)) return false
  // Server errors end with a ReadyForQuery and leave the connection clean,
  // except those that end the session. Anything else (timeouts, socket
  // errors) leaves it in an unknown state.
  return !isServerError(error) || endsSession(error as { severity?: string; code?: string })
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
