import type pg from 'pg'
import { isClientBusy, isReadyForQuery, type PgConnection, queryClassOf, type Submittable, statementText } from './_pg-internals.js'
import { connectionState, isSetterPending } from './connection-state.js'
import { placeSetter } from './setter-placement.js'
import { scriptShape } from './statement-kind.js'
import { StatementWrapper } from './statement-wrapper.js'

/**
 * @internal A statement inside a transaction that already carries the
 * setter: sent as it is, with nothing added. Still a StatementWrapper, so
 * that the session-state checks see it (its command tag, and the
 * ParameterStatus messages it causes, mark the connection).
 */
class InTransactionStatement extends StatementWrapper {
  submit(connection: PgConnection): Error | null {
    return this.statement.submit(connection) ?? null
  }
}

/**
 * @internal The direct path of a client's statement inside a transaction:
 * when pg will send it right away (nothing running or queued on the client)
 * into a transaction that has the setting (or a failed one), and its text
 * needs no setter there ('none' in setter-placement.ts: no AND CHAIN, no
 * BEGIN with modes, nothing that closes the transaction and goes on). Then
 * the placement decided now is the one decided when sent, and the statement
 * skips the wrapper that decides it. Returns undefined where that does not
 * hold: the caller takes the general path.
 */
export function queryInTransaction(
  client: pg.ClientBase,
  input: string | pg.QueryConfig,
  values: unknown[] | undefined,
  explain: (error: Error) => Error,
): Promise<pg.QueryResult> | undefined {
  const state = connectionState(client)
  if (state === 'I' || state === 'broken' || isSetterPending(client)) return undefined
  if (isClientBusy(client) || !isReadyForQuery(client)) return undefined
  const Query = queryClassOf(client)
  const statement = new Query(input as pg.QueryConfig, values as never) as unknown as Submittable
  if (placeSetter(scriptShape(statementText(client, statement)), 'scoped') !== 'none') return undefined
  return new Promise((resolve, reject) => {
    statement.callback = (error: Error | null, result: pg.QueryResult) => (error ? reject(explain(error)) : resolve(result))
    const wrapper = new InTransactionStatement(statement)
    wrapper.query_timeout = typeof input === 'string' ? undefined : (input as { query_timeout?: number }).query_timeout
    client.query(wrapper as unknown as pg.QueryConfig)
  })
}
