import type { FairnessPolicy, TenantPolicy } from './fairness-options.js'
import { TenantOverloadError } from './tenant-overload-error.js'

/** A granted share of the pool: one connection's worth. Release it exactly once. */
export interface Permit {
  release(): void
}

/** What the fair queue knows of one tenant (see `pool.stats()`). */
export interface TenantAdmissionStats {
  /** Connections the tenant holds now. */
  held: number
  /** Requests of the tenant waiting for a connection now. */
  waiting: number
  /** Connections granted so far. */
  admitted: number
  /** Requests refused because the tenant's queue was full. */
  refusedQueueFull: number
  /** Requests refused because they waited too long. */
  refusedWaitTimeout: number
  /** Total and longest time requests waited for a grant, in milliseconds. */
  waitedMs: number
  maxWaitedMs: number
}

interface Waiter {
  readonly grant: (permit: Permit) => void
  readonly refuse: (error: Error) => void
  readonly since: number
  timer: NodeJS.Timeout | undefined
}

interface TenantState {
  readonly tenantId: string
  readonly policy: TenantPolicy
  readonly stats: TenantAdmissionStats
  readonly queue: Waiter[]
  /** Grants left in this tenant's current round-robin turn. */
  turns: number
  inRing: boolean
}

// Weight of the newest hold time in the moving average behind retry-after.
const HOLD_SMOOTHING = 0.2

/**
 * @internal Admission to a pool of `capacity` connections, fair across
 * tenants. A request is admitted at once while a connection is free and its
 * tenant is under its cap; otherwise it waits in its tenant's queue. Freed
 * connections go round-robin across the tenants that wait (each tenant gets
 * `weight` grants per turn), so a hot tenant's backlog never delays a cold
 * tenant by more than one round.
 *
 * Grants resolve promises, so a waiting request resumes in its own async
 * context, never in the context of the request that released a connection.
 */
export class FairAdmission {
  readonly #policy: FairnessPolicy
  readonly #capacity: number
  readonly #tenants = new Map<string, TenantState>()
  readonly #stats = new Map<string, TenantAdmissionStats>()
  readonly #ring: TenantState[] = []
  #cursor = 0
  #inUse = 0
  #waiting = 0
  #averageHoldMs = 10

  constructor(policy: FairnessPolicy, capacity: number) {
    this.#policy = policy
    this.#capacity = capacity
  }

  /** A permit at once, or undefined when the request must wait (see wait()). */
  tryAcquire(tenantId: string): Permit | undefined {
    const state = this.#state(tenantId)
    if (this.#inUse < this.#capacity && state.queue.length === 0 && state.stats.held < state.policy.maxConnections) {
      return this.#grant(state, 0)
    }
    return undefined
  }

  /** Waits for a permit in the tenant's queue; rejects with TenantOverloadError. */
  wait(tenantId: string): Promise<Permit> {
    const state = this.#state(tenantId)
    const { policy, queue, stats } = state
    if (queue.length >= policy.maxWaiting) {
      stats.refusedQueueFull++
      this.#forget(state)
      return Promise.reject(new TenantOverloadError('queue_full', this.#retryAfter(state)))
    }
    return new Promise<Permit>((resolve, reject) => {
      const waiter: Waiter = { grant: resolve, refuse: reject, since: Date.now(), timer: undefined }
      waiter.timer = setTimeout(() => this.#timeOut(state, waiter), policy.maxWaitMs)
      queue.push(waiter)
      stats.waiting++
      this.#waiting++
      if (!state.inRing) {
        state.inRing = true
        state.turns = policy.weight
        this.#ring.push(state)
      }
      this.#dispatch()
    })
  }

  /** Pool-wide and per-tenant figures, copied. */
  stats(): { capacity: number; inUse: number; waiting: number; tenants: Record<string, TenantAdmissionStats> } {
    const tenants: Record<string, TenantAdmissionStats> = {}
    for (const [tenantId, stats] of this.#stats) tenants[tenantId] = { ...stats }
    return { capacity: this.#capacity, inUse: this.#inUse, waiting: this.#waiting, tenants }
  }

  #state(tenantId: string): TenantState {
    let state = this.#tenants.get(tenantId)
    if (state === undefined) {
      let stats = this.#stats.get(tenantId)
      if (stats === undefined) {
        stats = { held: 0, waiting: 0, admitted: 0, refusedQueueFull: 0, refusedWaitTimeout: 0, waitedMs: 0, maxWaitedMs: 0 }
        this.#stats.set(tenantId, stats)
      }
      const policy = this.#policy.of(tenantId)
      state = { tenantId, policy, stats, queue: [], turns: policy.weight, inRing: false }
      this.#tenants.set(tenantId, state)
    }
    return state
  }

  // A tenant with nothing held and nothing waiting keeps only its counters.
  #forget(state: TenantState): void {
    if (state.stats.held === 0 && state.queue.length === 0 && !state.inRing) this.#tenants.delete(state.tenantId)
  }

  #grant(state: TenantState, waitedMs: number): Permit {
    const { stats } = state
    stats.held++
    stats.admitted++
    stats.waitedMs += waitedMs
    if (waitedMs > stats.maxWaitedMs) stats.maxWaitedMs = waitedMs
    this.#inUse++
    const grantedAt = Date.now()
    let released = false
    return {
      release: () => {
        if (released) return
        released = true
        stats.held--
        this.#inUse--
        this.#averageHoldMs += HOLD_SMOOTHING * (Date.now() - grantedAt - this.#averageHoldMs)
        this.#dispatch()
        this.#forget(state)
      },
    }
  }

  // Hands free connections round-robin to the tenants in the ring that wait
  // and are under their cap. A tenant leaves the ring when its queue empties.
  #dispatch(): void {
    let skipped = 0
    while (this.#inUse < this.#capacity && this.#ring.length > 0 && skipped < this.#ring.length) {
      if (this.#cursor >= this.#ring.length) this.#cursor = 0
      const state = this.#ring[this.#cursor]!
      if (state.queue.length === 0) {
        this.#leaveRing(state)
        continue
      }
      if (state.stats.held >= state.policy.maxConnections) {
        this.#cursor++
        skipped++
        continue
      }
      skipped = 0
      const waiter = state.queue.shift()!
      clearTimeout(waiter.timer)
      state.stats.waiting--
      this.#waiting--
      waiter.grant(this.#grant(state, Date.now() - waiter.since))
      if (state.queue.length === 0) {
        this.#leaveRing(state)
      } else if (--state.turns <= 0) {
        state.turns = state.policy.weight
        this.#cursor++
      }
    }
  }

  #leaveRing(state: TenantState): void {
    const index = this.#ring.indexOf(state)
    if (index === -1) return
    this.#ring.splice(index, 1)
    if (index < this.#cursor) this.#cursor--
    state.inRing = false
    state.turns = state.policy.weight
  }

  #timeOut(state: TenantState, waiter: Waiter): void {
    const index = state.queue.indexOf(waiter)
    if (index === -1) return
    state.queue.splice(index, 1)
    state.stats.waiting--
    state.stats.refusedWaitTimeout++
    this.#waiting--
    if (state.queue.length === 0) this.#leaveRing(state)
    this.#forget(state)
    waiter.refuse(new TenantOverloadError('wait_timeout', this.#retryAfter(state)))
  }

  // Roughly when the tenant's backlog will have drained at its share of the
  // pool, from the average time a connection is held.
  #retryAfter(state: TenantState): number {
    const share = Math.max(1, Math.min(state.policy.maxConnections, this.#capacity))
    return Math.max(1, Math.ceil(((state.queue.length + 1) * this.#averageHoldMs) / share / 1000))
  }
}
