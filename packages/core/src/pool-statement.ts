import type pg from 'pg'
import { queryClassOf } from './_pg-internals.js'
import { hasObjectValue, type RunOptions } from './run-query.js'
import type { SetterStatement } from './setter.js'
import { placeSetter } from './setter-placement.js'
import { mayCallRoutine, scriptShape } from './statement-kind.js'
import { type Settle, tenantQueryClass } from './tenant-query.js'

/**
 * @internal The common case of pool.query, and pool.transaction's plain
 * BEGIN, sent as pg's own Query with the named setter ahead of it: the same
 * pipeline as ScopedQuery's,
 *
 *   Bind/Execute(named setter)  Parse/Bind/Describe/Execute(statement)  Sync
 *
 * without the wrapper around pg's Query (see tenant-query.ts). What
 * ScopedQuery does besides (named user statements, a CALL or DO, a BEGIN
 * with modes, a query config, Citus mode, values whose conversion may
 * throw, the unnamed setter) goes the general way.
 *
 * Called by sendQuery first, for statements not queued on a client from
 * pool.connect(). Returns false, having sent nothing, where the case is not
 * the common one.
 */
export function sendPoolStatement(
  client: pg.ClientBase,
  setter: SetterStatement,
  input: unknown,
  values: unknown[] | undefined,
  options: RunOptions,
  done: Settle,
): boolean {
  if (options.citus || options.statements !== undefined || typeof input !== 'string') return false
  if (options.opening ? placeSetter(scriptShape(input), 'opening') !== 'before' : mayCallRoutine(input)) return false
  // Only values that pg's Bind converts without running any code of theirs:
  // the general path converts the others before anything is written (see
  // serialiseValues in run-query.ts).
  if (values !== undefined && (!Array.isArray(values) || hasObjectValue(values))) return false
  const use = options.prepared?.use(client, setter)
  const messages = use?.messages(setter)
  if (use === undefined || messages === undefined) return false
  const TenantQuery = tenantQueryClass(queryClassOf(client))
  client.query(new TenantQuery(input, values, done, client, setter, use, messages) as unknown as pg.QueryConfig)
  return true
}
