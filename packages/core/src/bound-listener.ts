import { AsyncResource } from 'node:async_hooks'

type Listener = (...args: any[]) => unknown

/** @internal A listener bound to a context; `listener` lets EventEmitter#removeListener find it by the original. */
export interface BoundListener {
  (...args: unknown[]): unknown
  listener: Listener
}

/**
 * @internal Binds `listener` to the async context it is registered in
 * (every AsyncLocalStorage store, the tenant's included). pg emits events
 * from a pooled connection's socket, whose context is the one the connection
 * was opened in, not the one of whoever listens now.
 *
 * `once` is done here rather than by EventEmitter#once, whose own wrapper
 * would hide `listener` from removeListener(event, original).
 */
export function bindListener(
  emitter: EventTarget,
  event: string | symbol,
  listener: Listener,
  once: boolean,
  onceRemoved?: () => void,
): BoundListener {
  const resource = new AsyncResource('tenantscope:listener')
  const bound = function (this: unknown, ...args: unknown[]): unknown {
    if (once) {
      emitter.removeListener(event, bound)
      onceRemoved?.()
    }
    return resource.runInAsyncScope(listener, this, ...args)
  } as BoundListener
  bound.listener = listener
  return bound
}

/** @internal What bindListener needs of an EventEmitter. */
export interface EventTarget {
  removeListener(event: string | symbol, listener: Listener): unknown
}

/**
 * @internal Makes every event a query object emits run in `resource` (the
 * context it was submitted in): cursor rows and ends, stream data, errors.
 * pg calls a query object from the socket, and streams also emit from
 * process.nextTick and from the socket's own events.
 */
export function bindEmit(target: object, resource: AsyncResource): void {
  const { emit } = target as { emit?: unknown }
  if (typeof emit !== 'function') return
  try {
    Object.defineProperty(target, 'emit', {
      value: function (this: unknown, ...args: unknown[]): unknown {
        return resource.runInAsyncScope(emit as Listener, this, ...args)
      },
      configurable: true,
      writable: true,
    })
  } catch {
    // A frozen object keeps its own emit; its handlers still run in `resource`.
  }
}
