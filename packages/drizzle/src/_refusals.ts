import { TenantScopeError } from '@tenantscope/core'
import { entityKindOf } from './_drizzle-internals.js'

/**
 * @internal Drizzle's query cache keys on the SQL text and parameters, not
 * on the tenant: one tenant's cached rows would be served to another.
 */
export function refuseQueryCache(cache: unknown): void {
  if (cache !== undefined && cache !== null && entityKindOf(cache) !== 'NoopCache') {
    throw new TenantScopeError(
      'INVALID_CONFIG',
      "Drizzle's query cache keys on SQL text and parameters, not on the tenant: a cached result of one tenant would be served to another. Remove `cache` from the drizzle() config",
    )
  }
}

/**
 * Drizzle wraps every error a query throws in a DrizzleQueryError
 * (whose message, in 0.x, lists the parameters). tenantscope's own refusals
 * (TENANT_CONTEXT_MISSING, TENANT_MISMATCH, ...) are not query failures: they
 * are thrown before anything is sent, and come out as the TenantScopeError
 * itself, so `TenantScopeError.is(error, code)` works on what the caller sees.
 * Database errors stay as Drizzle makes them (SQLSTATE on `error.cause.code`).
 */
function unwrapRefusal(error: unknown): unknown {
  const cause = (error as { cause?: unknown } | null | undefined)?.cause
  return !TenantScopeError.is(error) && TenantScopeError.is(cause) ? cause : error
}

interface SessionWithPrepare {
  prepareQuery(...args: unknown[]): object
  transaction?(fn: (tx: { session?: unknown }) => unknown, config?: unknown): Promise<unknown>
  client?: unknown
}

interface Releasable {
  release(error?: Error | boolean): void
}

const patched = new WeakSet<object>()
const EXECUTORS = ['execute', 'all', 'values'] as const

/**
 * @internal Makes every prepared query of `session` (and of the sessions its
 * transactions open) rethrow refusals unwrapped. Only this instance is
 * touched, never Drizzle's classes.
 */
export function unwrapRefusalsOf(session: object): void {
  if (patched.has(session)) return
  patched.add(session)
  const target = session as SessionWithPrepare
  const prepareQuery = target.prepareQuery
  Object.defineProperty(target, 'prepareQuery', {
    configurable: true,
    writable: true,
    value(this: SessionWithPrepare, ...args: unknown[]) {
      const prepared = prepareQuery.apply(this, args) as Record<string, unknown>
      for (const name of EXECUTORS) {
        const run = prepared[name]
        if (typeof run !== 'function') continue
        prepared[name] = function (this: unknown, ...runArgs: unknown[]) {
          return (run as (...a: unknown[]) => Promise<unknown>).apply(this, runArgs).catch((error: unknown) => {
            throw unwrapRefusal(error)
          })
        }
      }
      return prepared
    },
  })
  const transaction = target.transaction
  if (typeof transaction === 'function') {
    Object.defineProperty(target, 'transaction', {
      configurable: true,
      writable: true,
      value(this: SessionWithPrepare, fn: (tx: { session?: unknown }) => unknown, config?: unknown) {
        // A transaction runs on a session of its own (over its own
        // connection), made inside Drizzle: patch it when it shows up.
        const wrapped = (tx: { session?: unknown }) => {
          if (tx?.session && typeof tx.session === 'object') unwrapRefusalsOf(tx.session)
          return fn(tx)
        }
        const checkedOut: Releasable[] = []
        return transaction.call(recordingCheckouts(this, checkedOut), wrapped, config).catch((error: unknown) => {
          releaseForgotten(checkedOut, error)
          throw unwrapRefusal(error)
        })
      },
    })
  }
}

/**
 * @internal Drizzle 0.x runs its `begin` before the try/finally that
 * releases the transaction's connection: a failed BEGIN (with tenantscope it
 * carries the setter) would leak the connection. So each transaction sees,
 * through a per-call view of the session, a pool whose connect() records
 * what it hands out; whatever Drizzle did not release is released with the
 * error. Instances are views (prototype children): nothing shared is changed.
 */
function recordingCheckouts(session: SessionWithPrepare, checkedOut: Releasable[]): SessionWithPrepare {
  const pool = session.client as { connect?: () => Promise<Releasable> } | undefined
  if (typeof pool?.connect !== 'function') return session
  const recordingPool = Object.create(pool, {
    connect: {
      value: async () => {
        const client = await pool.connect!()
        checkedOut.push(client)
        return client
      },
    },
  })
  return Object.create(session, { client: { value: recordingPool } })
}

function releaseForgotten(checkedOut: Releasable[], error: unknown): void {
  for (const client of checkedOut) {
    try {
      client.release(error instanceof Error ? error : true)
    } catch {
      // CLIENT_RELEASED: Drizzle released it itself.
    }
  }
}
