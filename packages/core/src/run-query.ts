import pg from 'pg'
import type { Submittable } from './_pg-internals.js'
import { TenantScopeError } from './errors.js'
import type { PreparedSetters } from './prepared-setter.js'
import { isBeginWithModes, ScopedBegin } from './scoped-begin.js'
import { ScopedQuery } from './scoped-query.js'
import type { SetterStatement } from './setter.js'

/** The first argument of `pool.query`: SQL text or a pg query config. */
export type QueryInput = string | pg.QueryConfig

/**
 * @internal Runs one statement on a checked-out client. With a setter, the
 * setter and the statement share one pipeline (see ScopedQuery); without one
 * (inside a transaction that already carries the setting) it is pg's own query.
 */
export function runQuery(
  client: pg.ClientBase,
  setter: SetterStatement | null,
  input: QueryInput,
  values: unknown[] | undefined,
  // Only where nothing else can be queued on the client behind this
  // statement (pool.query, pool.transaction's BEGIN): a retry joins the
  // back of pg's queue.
  prepared?: PreparedSetters | null,
): Promise<pg.QueryResult> {
  if (setter === null) {
    return client.query(input as pg.QueryConfig, values) as Promise<pg.QueryResult>
  }
  return new Promise<pg.QueryResult>((resolve, reject) => {
    const config = typeof input === 'string' ? { text: input } : { ...input }
    const statement = new pg.Query({
      ...config,
      values: values ?? config.values,
      // The setter is useless without the extended protocol: a simple-protocol
      // query cannot join its pipeline.
      queryMode: 'extended',
    } as pg.QueryConfig) as unknown as Submittable
    statement.callback = (error: Error | null, result: pg.QueryResult) => {
      if (error) reject(explain(error))
      else resolve(result)
    }
    if (isBeginWithModes(config.text)) {
      client.query(new ScopedBegin(setter, statement) as unknown as pg.QueryConfig)
      return
    }
    const retry = () => void client.query(new ScopedQuery(setter, statement) as unknown as pg.QueryConfig)
    const use = prepared && !(client as { pipeline?: boolean }).pipeline ? prepared.use(client, setter, retry) : undefined
    client.query(new ScopedQuery(setter, statement, use) as unknown as pg.QueryConfig)
  })
}

/** @internal Wraps a user submittable (a cursor, a stream) so it runs after the setter. */
export function scopeSubmittable<T extends Submittable>(client: pg.ClientBase, setter: SetterStatement, submittable: T): T {
  client.query(new ScopedQuery(setter, submittable) as unknown as pg.QueryConfig)
  return submittable
}

// The extended protocol takes one statement per Parse; say what to do instead.
function explain(error: Error): Error {
  const { code } = error as { code?: string }
  if (code === '42601' && /multiple commands/i.test(error.message)) {
    return new TenantScopeError(
      'MULTI_STATEMENT_QUERY',
      'A tenant-scoped query carries one statement. Send statements one by one, or run the script inside pool.transaction(), where it is sent as is.',
      { cause: error },
    )
  }
  return error
}
