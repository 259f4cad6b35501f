import { TenantScopeError } from '@tenantscope/core'
import type postgres from 'postgres'
import {
  absorbStaleError,
  type Handler,
  handlerOf,
  isConnectionError,
  isPostgresSql,
  isQuery,
  isStaleFatal,
  type QueryInternals,
} from './_postgres-internals.js'
import { type PoolSqlLike, scopedStatementHandler } from './scoped-statement.js'
import { scopeTransaction, type TransactionSqlLike } from './scoped-transaction.js'
import { splicedStatementHandler } from './spliced-statement.js'
import { TenantBinding, type TenantSqlOptions } from './tenant-binding.js'
import { usesTenantSocket } from './tenant-socket.js'

const brand = Symbol.for('tenantscope:TenantSql')

/**
 * A postgres.js `sql` whose every query runs for the current tenant. Same
 * type as the `sql` it wraps, so Drizzle's `postgres-js` driver and any
 * code written for postgres.js take it as is.
 */
export type TenantSql<TTypes extends Record<string, unknown> = {}> = postgres.Sql<TTypes>

/** True for what `createTenantSql` returns (from any installed copy of this package). */
export function isTenantSql(value: unknown): boolean {
  return typeof value === 'function' && (value as unknown as { [brand]?: unknown })[brand] === true
}

/**
 * Wraps a postgres.js `sql` (from `postgres(...)`) so that every query made
 * through the result runs for the tenant of the surrounding `withTenant`:
 *
 * - ``sql`...` `` and `sql.unsafe(...)`: on one connection, `BEGIN` with the
 *   transaction-local setting, your statement and `COMMIT` go out in one
 *   write: one round trip for a prepared statement (postgres.js's default),
 *   as for raw postgres.js. The promise settles after COMMIT.
 * - `sql.begin(fn)`: the setter rides with the transaction's first statement
 *   (after a `SET TRANSACTION`, if that comes first), in the same round
 *   trip; savepoints and `tx.prepare` work as in postgres.js.
 * - Outside `withTenant`, a query rejects with `TENANT_CONTEXT_MISSING`
 *   when awaited and `sql.begin` with it before anything is sent; an id that
 *   `parseTenantId` refuses rejects with `INVALID_TENANT_ID`.
 * - Nothing stays on a connection once a statement or transaction ends: safe
 *   behind PgBouncer in transaction mode.
 *
 * `reserve`, `listen`, `subscribe`, `notify` and `largeObject` are not
 * scoped and throw `INVALID_CONFIG`: call them on the `sql` you wrapped.
 * `sql.end()` ends the wrapped `sql`. Fragments (`sql(object)`,
 * `sql(identifier)`, `sql.json`, `sql.array`) work as usual.
 * @example
 * const sql = createTenantSql(postgres(process.env.DATABASE_URL))
 * await withTenant(session.tenantId, () => sql`SELECT * FROM projects`)
 */
export function createTenantSql<TTypes extends Record<string, unknown> = {}>(
  sql: postgres.Sql<TTypes>,
  options?: TenantSqlOptions,
): TenantSql<TTypes> {
  if (isTenantSql(sql)) {
    throw new TenantScopeError('INVALID_CONFIG', 'This sql is already tenant-scoped: wrap the postgres.js instance only once')
  }
  if (!isPostgresSql(sql)) {
    throw new TenantScopeError('INVALID_CONFIG', 'createTenantSql takes the sql function that postgres(...) returns (postgres.js)')
  }
  const pool = sql as unknown as PoolSqlLike & Record<string, unknown>
  const binding = new TenantBinding(options)
  const poolHandler = handlerOf(pool)
  const debug = poolHandler.debug
  const spliced = usesTenantSocket(pool.options)

  // The query is postgres.js's own (so .values(), .raw(), .describe(),
  // .forEach() work); only what sends it changes.
  const scope = <T>(made: T): T => {
    if (!isQuery(made)) return made
    let handler: Handler
    try {
      const tenant = binding.resolve()
      // The binding keeps a tenant's resolution (and so its handler) when it can.
      handler = spliced
        ? (tenant.spliced ??= splicedStatementHandler(pool, poolHandler, tenant, debug))
        : scopedStatementHandler(pool, tenant, debug)
    } catch (error) {
      handler = (query: QueryInternals) => query.reject(error)
      handler.debug = debug
    }
    made.handler = handler
    return made
  }

  const scoped = ((first: unknown, ...rest: unknown[]) => scope(pool(first, ...rest))) as unknown as Record<string | symbol, unknown>
  const notScoped = (name: string) => () => {
    throw new TenantScopeError('INVALID_CONFIG', `sql.${name}() is not tenant-scoped: call it on the postgres.js sql you wrapped`)
  }
  Object.defineProperties(scoped, {
    [brand]: { value: true },
    options: { get: () => pool.options, enumerable: true },
    parameters: { get: () => pool.parameters, enumerable: true },
  })
  Object.assign(scoped, {
    types: pool.types,
    typed: pool.typed,
    array: pool.array,
    json: pool.json,
    PostgresError: pool.PostgresError,
    CLOSE: pool.CLOSE,
    END: pool.END,
    end: pool.end,
    close: pool.close,
    unsafe: (...args: unknown[]) => scope((pool.unsafe as (...a: unknown[]) => unknown)(...args)),
    file: (...args: unknown[]) => scope((pool.file as (...a: unknown[]) => unknown)(...args)),
    begin(this: unknown, options: unknown, fn?: unknown) {
      const body = (typeof options === 'function' ? options : fn) as (tx: TransactionSqlLike) => unknown
      const mode = typeof options === 'string' ? options : ''
      let setter: ReturnType<TenantBinding['resolve']>['setter']
      try {
        setter = binding.resolve().setter
      } catch (error) {
        return Promise.reject(error)
      }
      const begin = pool.begin as (mode: string, fn: (tx: TransactionSqlLike) => unknown) => Promise<unknown>
      let started = false
      const run = () =>
        begin(mode, (tx) => {
          started = true
          return body(scopeTransaction(tx, setter))
        })
      return run().catch((error: unknown) => {
        // Once more only if BEGIN itself failed with a stale FATAL: fn never ran.
        if (!started && isStaleFatal(error)) return run()
        if (isConnectionError(error)) absorbStaleError(pool)
        throw error
      })
    },
    reserve: notScoped('reserve'),
    listen: notScoped('listen'),
    subscribe: notScoped('subscribe'),
    notify: notScoped('notify'),
    largeObject: notScoped('largeObject'),
  })
  return scoped as unknown as TenantSql<TTypes>
}
