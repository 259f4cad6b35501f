import type pg from 'pg'
import {
  connectionOf,
  isClientBusy,
  onReadyForQuery,
  supportsExtendedQueryMode,
  transactionStatusOf,
  usesPipelineMode,
} from './_pg-internals.js'
import { TenantScopeError } from './errors.js'

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
    throw new TenantScopeError('INVALID_CONFIG', 'tenantscope needs pg 8.12 or later (a statement without parameters must share the pipeline)')
  }
  if (usesPipelineMode(client)) {
    throw new TenantScopeError('INVALID_CONFIG', "pg's pipeline mode refuses the query objects that carry the setter: leave `pipeline` off")
  }
  const slot: Slot = { state: toState(transactionStatusOf(client)), setterPending: false }
  states.set(client, slot)
  // Prepended: pg's own handler starts the next queued query, which must see the new state.
  onReadyForQuery(connection, (status) => {
    slot.state = toState(status)
    if (slot.state === 'I') slot.setterPending = false
  })
  const markBroken = () => {
    slot.state = 'broken'
  }
  // While checked out, a dead connection must not crash the process: the
  // query that was using it rejects, and the connection is then destroyed.
  client.on('error', markBroken)
  client.on('end', markBroken)
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
 * transaction, a statement still running or queued (it would run for whoever
 * borrows the connection next), or a broken socket.
 */
export function mustDestroy(client: pg.ClientBase, error?: unknown): boolean {
  if (connectionState(client) !== 'I' || isClientBusy(client)) return true
  if (error === undefined || TenantScopeError.is(error)) return false
  // Server errors end with a ReadyForQuery and leave the connection clean,
  // except those that end the session. Anything else (timeouts, socket
  // errors) leaves it in an unknown state.
  return !isServerError(error) || endsSession(error as { severity?: string; code?: string })
}

function isServerError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'severity' in error && 'code' in error
}

// FATAL/PANIC, admin shutdown (57P..), connection exceptions (08...).
function endsSession({ severity, code }: { severity?: string; code?: string }): boolean {
  return severity === 'FATAL' || severity === 'PANIC' || /^(57P|08)/.test(code ?? '')
}
