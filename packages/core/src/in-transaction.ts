import type pg from 'pg'
import { isClientBusy, isReadyForQuery, type PgConnection, queryClassOf, type Submittable, statementText } from './_pg-internals.js'
import { hasScopedTransaction } from './connection-state.js'
import { placeSetter } from './setter-placement.js'
import { scriptShape } from './statement-kind.js'
import { StatementWrapper } from './statement-wrapper.js'

type Settle = (error: Error | null, result?: pg.QueryResult) => void

/**
 * @internal A statement inside a transaction that already carries the
 * setter: sent as it is, with nothing added. Still a StatementWrapper, so
 * that the session-state checks see it (its command tag, and the
 * ParameterStatus messages it causes, mark the connection).
 *
 * Its completion callback (an own property, as StatementWrapper requires)
 * settles the caller's promise directly.
 */
class InTransactionStatement extends StatementWrapper {
  constructor(statement: Submittable, settle: Settle) {
    super(statement)
    this.callback = settle
    statement.callback = (error: Error | null, result: pg.QueryResult) => (this.callback as Settle)(error, result)
  }

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
  if (!hasScopedTransaction(client) || isClientBusy(client) || !isReadyForQuery(client)) return undefined
  const Query = queryClassOf(client)
  const statement = new Query(input as pg.QueryConfig, values as never) as unknown as Submittable
  if (placeSetter(scriptShape(statementText(client, statement)), 'scoped') !== 'none') return undefined
  const timeout = typeof input === 'string' ? undefined : (input as { query_timeout?: number }).query_timeout
  return new Promise((resolve, reject) => {
    const wrapper = new InTransactionStatement(statement, (error, result) => (error ? reject(explain(error)) : resolve(result!)))
    wrapper.query_timeout = timeout
    client.query(wrapper as unknown as pg.QueryConfig)
  })
}
