import { createHash } from 'node:crypto'
import type { TenantPool } from './tenant-pool.js'

/** The slice of an OpenTelemetry `Meter` used (the `@opentelemetry/api` one fits). */
export interface MeterLike {
  createObservableGauge(name: string, options?: { description?: string; unit?: string }): ObservableLike
  createObservableCounter(name: string, options?: { description?: string; unit?: string }): ObservableLike
  addBatchObservableCallback(callback: (observer: BatchObserverLike) => void, observables: ObservableLike[]): void
  removeBatchObservableCallback(callback: (observer: BatchObserverLike) => void, observables: ObservableLike[]): void
}
/** An observable instrument, as the Meter hands it out. */
export type ObservableLike = object
export interface BatchObserverLike {
  observe(observable: ObservableLike, value: number, attributes?: Record<string, string>): void
}

export interface ObserveTenantPoolOptions {
  /**
   * Add the tenant as the attribute `tenantscope.tenant.id` (`'sha256'`: a
   * digest of it). Off by default: one series per tenant can be many series,
   * and tenant ids may be personal data. Without it, figures are summed over
   * tenants.
   * @default false
   */
  tenant?: boolean | 'sha256'
}

/**
 * Reports a TenantPool's figures through OpenTelemetry metrics, read from
 * `pool.stats()` when the meter collects (nothing is added to the query
 * path): connections held and requests waiting per tenant, connections
 * granted, time waited, overload refusals (with the fair queue, `fairness`),
 * statements and errors by SQLSTATE (with `stats: true`), and the pool's own
 * connection counts. Returns a function that stops reporting.
 * @example
 * const pool = createTenantPool(pg, { fairness: {}, stats: true })
 * observeTenantPool(pool, metrics.getMeter('billing-api'), { tenant: 'sha256' })
 */
export function observeTenantPool(pool: TenantPool, meter: MeterLike, options: ObserveTenantPoolOptions = {}): () => void {
  const label = tenantLabel(options.tenant ?? false)
  const instruments = {
    connections: meter.createObservableGauge('tenantscope.pool.connections', {
      description: 'Connections of the wrapped pg.Pool, by state (total, idle) and callers waiting inside it',
    }),
    held: meter.createObservableGauge('tenantscope.tenant.connections.held', { description: 'Connections a tenant holds now (fairness)' }),
    waiting: meter.createObservableGauge('tenantscope.tenant.requests.waiting', {
      description: 'Requests of a tenant waiting for a connection (fairness)',
    }),
    admitted: meter.createObservableCounter('tenantscope.tenant.connections.granted', {
      description: 'Connections granted to a tenant (fairness)',
    }),
    waited: meter.createObservableCounter('tenantscope.tenant.connection.wait_time', {
      description: 'Time a tenant waited for connections (fairness)',
      unit: 'ms',
    }),
    overloads: meter.createObservableCounter('tenantscope.tenant.overloads', {
      description: 'Requests refused with TENANT_OVERLOADED, by reason (fairness)',
    }),
    statements: meter.createObservableCounter('tenantscope.tenant.statements', {
      description: 'Statements a tenant completed (stats: true)',
    }),
    errors: meter.createObservableCounter('tenantscope.tenant.errors', {
      description: 'Failed statements of a tenant by SQLSTATE or tenantscope code (stats: true)',
    }),
  }
  const callback = (observer: BatchObserverLike) => {
    const stats = pool.stats()
    observer.observe(instruments.connections, stats.totalCount, { state: 'total' })
    observer.observe(instruments.connections, stats.idleCount, { state: 'idle' })
    observer.observe(instruments.connections, stats.waitingCount, { state: 'waiting' })
    const sums = new Sums()
    for (const [tenantId, tenant] of Object.entries(stats.fairness?.tenants ?? {})) {
      const attributes = label(tenantId)
      sums.add(instruments.held, tenant.held, attributes)
      sums.add(instruments.waiting, tenant.waiting, attributes)
      sums.add(instruments.admitted, tenant.admitted, attributes)
      sums.add(instruments.waited, tenant.waitedMs, attributes)
      sums.add(instruments.overloads, tenant.refusedQueueFull, { ...attributes, reason: 'queue_full' })
      sums.add(instruments.overloads, tenant.refusedWaitTimeout, { ...attributes, reason: 'wait_timeout' })
    }
    for (const [tenantId, tenant] of Object.entries(stats.statements ?? {})) {
      const attributes = label(tenantId)
      sums.add(instruments.statements, tenant.statements, attributes)
      for (const [code, count] of Object.entries(tenant.errors))
        sums.add(instruments.errors, count, { ...attributes, 'db.response.status_code': code })
    }
    sums.observe(observer)
  }
  const observables = Object.values(instruments)
  meter.addBatchObservableCallback(callback, observables)
  return () => meter.removeBatchObservableCallback(callback, observables)
}

function tenantLabel(option: boolean | 'sha256'): (tenantId: string) => Record<string, string> {
  if (option === false) return () => ({})
  const digests = new Map<string, string>()
  return (tenantId) => {
    if (option !== 'sha256') return { 'tenantscope.tenant.id': tenantId }
    let digest = digests.get(tenantId)
    if (digest === undefined) digests.set(tenantId, (digest = createHash('sha256').update(tenantId).digest('hex').slice(0, 16)))
    return { 'tenantscope.tenant.id': digest }
  }
}

// Adds up values per instrument and attribute set: without the tenant
// attribute every tenant lands on the same series.
class Sums {
  readonly #values = new Map<string, { instrument: ObservableLike; attributes: Record<string, string>; value: number }>()
  #ids = new WeakMap<ObservableLike, number>()
  #next = 0

  add(instrument: ObservableLike, value: number, attributes: Record<string, string>): void {
    let id = this.#ids.get(instrument)
    if (id === undefined) this.#ids.set(instrument, (id = this.#next++))
    const key = `${id}\u0000${JSON.stringify(attributes)}`
    const entry = this.#values.get(key)
    if (entry) entry.value += value
    else this.#values.set(key, { instrument, attributes, value })
  }

  observe(observer: BatchObserverLike): void {
    for (const { instrument, attributes, value } of this.#values.values()) observer.observe(instrument, value, attributes)
  }
}
