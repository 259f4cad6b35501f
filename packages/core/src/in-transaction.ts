import type pg from 'pg'
import { isClientBusy, isReadyForQuery, queryClassOf, statementText } from './_pg-internals.js'
import { hasScopedTransaction } from './connection-state.js'
import { hasObjectValue } from './run-query.js'
import { placeSetter } from './setter-placement.js'
import { scriptShape } from './statement-kind.js'
import { tenantQueryClass } from './tenant-query.js'

/**
 * @internal The direct path of a client's statement inside a transaction:
 * when pg will send it right away (nothing running or queued on the client)
 * into a transaction that has the setting (or a failed one), and its text
 * needs no setter there ('none' in setter-placement.ts: no AND CHAIN, no
 * BEGIN with modes, nothing that closes the transaction and goes on). Then
 * the placement decided now is the one decided when sent, and the statement
 * goes to pg as pg's own Query, with no wrapper to decide it. Returns
 * undefined where that does not hold: the caller takes the general path.
 */
export function queryInTransaction(
  client: pg.ClientBase,
  input: string | pg.QueryConfig,
  values: unknown[] | undefined,
  explain: (error: Error) => Error,
): Promise<pg.QueryResult> | undefined {
  if (!hasScopedTransaction(client) || isClientBusy(client) || !isReadyForQuery(client)) return undefined
  // Classified before anything is built: the text is the input's (a named
  // statement without text is looked up on the connection, as when sent).
  const text = typeof input === 'string' ? input : statementText(client, input as never)
  if (placeSetter(scriptShape(text), 'scoped') !== 'none') return undefined
  // An object among the values (JSON, toPostgres, a Date, an array) is
  // converted by the general path before anything is sent: pg 8.12 to 8.16
  // convert at Bind, after the Parse, and a conversion that throws there
  // leaves the connection with no Sync, waiting for ever.
  const given = values ?? (typeof input === 'string' ? undefined : input.values)
  if (Array.isArray(given) && hasObjectValue(given)) return undefined
  return new Promise((resolve, reject) => {
    const TenantQuery = tenantQueryClass(queryClassOf(client))
    const statement = new TenantQuery(input, values, (error, result) => (error ? reject(explain(error)) : resolve(result!)))
    // pg reads a per-query timeout from the object it runs.
    const timeout = typeof input === 'string' ? undefined : (input as { query_timeout?: number }).query_timeout
    if (timeout !== undefined) statement.query_timeout = timeout
    client.query(statement as unknown as pg.QueryConfig)
  })
}
