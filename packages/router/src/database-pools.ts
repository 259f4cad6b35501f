import { createTenantPool, type TenantPool, type TenantPoolOptions, TenantScopeError } from '@tenantscope/core'
import pg from 'pg'
import type { TenantEntry } from './directory-entry.js'

/** Credentials for a tenant database, resolved by the application each time a pool opens (never stored). */
export type ConnectionResolver = (entry: TenantEntry) => Promise<string | pg.PoolConfig> | string | pg.PoolConfig

export interface DatabasePoolsOptions {
  connectionFor: ConnectionResolver
  /**
   * The most connections open at once across all tenant databases.
   * @default 20
   */
  maxConnections?: number
  /**
   * Connections per tenant database (each open tenant pool reserves this many under the cap).
   * @default 1
   */
  maxPerDatabase?: number
  /**
   * A tenant database's pool closes after this long without use, giving its share of the cap back.
   * @default 10_000
   */
  idleMillis?: number
  /**
   * How long a query waits for room under the cap before `TENANT_POOL_EXHAUSTED`.
   * @default 5_000
   */
  acquireTimeoutMillis?: number
}

interface OpenDatabase {
  readonly key: string
  readonly pool: TenantPool
  active: number
  idleTimer: NodeJS.Timeout | undefined
}

interface Waiter {
  readonly grant: () => void
  readonly timer: NodeJS.Timeout
}

/** A tenant database borrowed for one operation; call `release()` once done. */
export interface DatabaseLease {
  readonly pool: TenantPool
  release(): void
}

/**
 * @internal One lazily opened TenantPool per tenant database, under one cap.
 * Opening a pool reserves `maxPerDatabase` slots of `maxConnections`, so the
 * open connections never exceed the cap. When the cap is reached, a pool that
 * nobody is using is closed to make room; otherwise the caller waits in a
 * first-come first-served queue, and gives up with a typed error.
 */
export class DatabasePools {
  readonly #options: Required<DatabasePoolsOptions>
  readonly #scope: TenantPoolOptions
  readonly #open = new Map<string, OpenDatabase>()
  readonly #opening = new Map<string, Promise<OpenDatabase>>()
  readonly #queue: Waiter[] = []
  #reserved = 0
  #ended = false

  constructor(options: DatabasePoolsOptions, scope: TenantPoolOptions) {
    const maxConnections = options.maxConnections ?? 20
    const maxPerDatabase = options.maxPerDatabase ?? 1
    if (typeof options.connectionFor !== 'function') {
      throw new TenantScopeError('INVALID_CONFIG', 'The database strategy needs connectionFor(entry)')
    }
    const integers = Number.isInteger(maxPerDatabase) && Number.isInteger(maxConnections)
    if (!(integers && maxPerDatabase >= 1 && maxConnections >= maxPerDatabase)) {
      throw new TenantScopeError(
        'INVALID_CONFIG',
        'maxConnections and maxPerDatabase must be integers with 1 ≤ maxPerDatabase ≤ maxConnections',
      )
    }
    this.#options = {
      connectionFor: options.connectionFor,
      maxConnections,
      maxPerDatabase,
      idleMillis: options.idleMillis ?? 10_000,
      acquireTimeoutMillis: options.acquireTimeoutMillis ?? 5_000,
    }
    this.#scope = scope
  }

  /** Connections that may be open right now (reserved slots), never above maxConnections. */
  get reservedConnections(): number {
    return this.#reserved
  }

  /** Tenant databases with an open pool. */
  get openDatabases(): number {
    return this.#open.size
  }

  async acquire(entry: TenantEntry): Promise<DatabaseLease> {
    const key = entry.database!
    let open = this.#open.get(key)
    // A pool just opened may be closed again before this caller resumes (evicted while idle): open it again.
    while (open === undefined) {
      let opening = this.#opening.get(key)
      if (opening === undefined) {
        opening = this.#openDatabase(key, entry).finally(() => this.#opening.delete(key))
        this.#opening.set(key, opening)
      }
      const opened = await opening
      open = this.#open.get(key) === opened ? opened : undefined
    }
    open.active++
    if (open.idleTimer) {
      clearTimeout(open.idleTimer)
      open.idleTimer = undefined
    }
    let released = false
    return {
      pool: open.pool,
      release: () => {
        if (released) return
        released = true
        this.#released(open)
      },
    }
  }

  async end(): Promise<void> {
    this.#ended = true
    for (const waiter of this.#queue.splice(0)) clearTimeout(waiter.timer)
    await Promise.all([...this.#open.values()].map((open) => this.#close(open)))
  }

  async #openDatabase(key: string, entry: TenantEntry): Promise<OpenDatabase> {
    await this.#reserve()
    try {
      if (this.#ended) throw new TenantScopeError('INVALID_CONFIG', 'The router has been ended')
      const config = await this.#options.connectionFor(entry)
      const base: pg.PoolConfig = typeof config === 'string' ? { connectionString: config } : { ...config }
      const pgPool = new pg.Pool({ ...base, max: this.#options.maxPerDatabase })
      // An idle connection's error must not crash the process; the pool drops it.
      pgPool.on('error', () => undefined)
      const open: OpenDatabase = { key, pool: createTenantPool(pgPool, this.#scope), active: 0, idleTimer: undefined }
      this.#open.set(key, open)
      return open
    } catch (error) {
      this.#unreserve()
      throw error
    }
  }

  #reserve(): Promise<void> {
    if (this.#ended) return Promise.reject(new TenantScopeError('INVALID_CONFIG', 'The router has been ended'))
    const need = this.#options.maxPerDatabase
    if (this.#queue.length === 0 && this.#reserved + need <= this.#options.maxConnections) {
      this.#reserved += need
      return Promise.resolve()
    }
    this.#evictIdle()
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(waiter.timer)
          resolve()
        },
        timer: setTimeout(() => {
          const at = this.#queue.indexOf(waiter)
          if (at >= 0) this.#queue.splice(at, 1)
          const cap = this.#options.maxConnections
          reject(new TenantScopeError('TENANT_POOL_EXHAUSTED', `No room under the cap of ${cap} tenant database connections`))
        }, this.#options.acquireTimeoutMillis),
      }
      this.#queue.push(waiter)
      this.#grant()
    })
  }

  // First come, first served: the head of the queue gets the next free slots.
  #grant(): void {
    const need = this.#options.maxPerDatabase
    while (this.#queue.length > 0 && this.#reserved + need <= this.#options.maxConnections) {
      this.#reserved += need
      this.#queue.shift()!.grant()
    }
  }

  #unreserve(): void {
    this.#reserved -= this.#options.maxPerDatabase
    this.#grant()
  }

  #released(open: OpenDatabase): void {
    open.active--
    if (open.active > 0 || this.#open.get(open.key) !== open) return
    // Someone waits for room: this pool is idle, give its slots away now.
    if (this.#queue.length > 0) {
      void this.#close(open)
      return
    }
    open.idleTimer = setTimeout(() => void this.#close(open), this.#options.idleMillis)
    open.idleTimer.unref()
  }

  #evictIdle(): void {
    for (const open of this.#open.values()) {
      if (open.active === 0) {
        void this.#close(open)
        return
      }
    }
  }

  // The slots come back once the connections are closed, not before: the
  // cap counts connections, and end() resolves after they are gone.
  async #close(open: OpenDatabase): Promise<void> {
    if (this.#open.get(open.key) !== open) return
    this.#open.delete(open.key)
    if (open.idleTimer) clearTimeout(open.idleTimer)
    try {
      await open.pool.end()
    } catch {
      // Already ended or a dead socket: either way the connections are gone.
    }
    this.#unreserve()
  }
}
