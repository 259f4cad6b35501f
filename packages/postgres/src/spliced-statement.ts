import { absorbStaleError, connectionLost, type Handler } from './_postgres-internals.js'
import { type PoolSqlLike, scopedStatementHandler } from './scoped-statement.js'
import { spliceEligible } from './splice-eligible.js'
import type { ResolvedTenant } from './tenant-binding.js'
import { encodeToken } from './tenant-token.js'

/**
 * @internal With `tenantSocket()`: a query handler that sends `query` as
 * raw postgres.js would, on the pool, its Bind carrying the tenant's setter
 * as a token that the socket turns into the setter's Bind and Execute
 * before the statement's own (see wire-splice.ts). One command, one Sync.
 *
 * A simple-protocol query (`sql.unsafe(text)` without parameters, or
 * `.simple()`) has no Bind to carry the token: it goes as without the
 * socket (BEGIN and the setting, the statement, COMMIT). So does a
 * statement that may control the transaction (see splice-eligible.ts).
 */
export function splicedStatementHandler(sql: PoolSqlLike, pool: Handler, tenant: ResolvedTenant, debug: unknown): Handler {
  const token = encodeToken(tenant.setter)
  let fallback: Handler | undefined
  const handler: Handler = (query) => {
    if (query.options.simple === true || query.cursorFn !== undefined || query.streaming === true || !spliceEligible(query.strings)) {
      fallback ??= scopedStatementHandler(sql, tenant, debug)
      fallback(query)
      return
    }
    query.cursorName = token
    query.handler = pool
    // postgres.js 3.4 hands a lost connection's FATAL to the next query on
    // its replacement (see README, Killed connections): an unscoped no-op
    // takes it instead, as the path without the socket does. Once per
    // statement: postgres.js rejects the statement it is running again when
    // the socket closes (see tenant-socket.ts), and the second goes straight
    // to postgres.js's own reject (a settled promise ignores it).
    const reject = query.reject
    query.reject = (error) => {
      query.reject = reject
      if (connectionLost(error)) absorbStaleError(sql)
      reject(error)
    }
    pool(query)
  }
  handler.debug = debug
  return handler
}
