import pg from 'pg'
import type { Submittable } from './_pg-internals.js'
import { TenantScopeError } from './errors.js'
import type { PreparedSetters } from './prepared-setter.js'
import { connectionState } from './connection-state.js'
import { isBeginWithModes, isChainedTransactionEnd, ScopedBegin } from './scoped-begin.js'
import { ScopedQuery } from './scoped-query.js'
import type { SetterStatement } from './setter.js'
import type { StatementWrapper } from './statement-wrapper.js'

/** The first argument of `pool.query`: SQL text or a pg query config. */
export type QueryInput = string | pg.QueryConfig

/** @internal How runQuery sends the setter. */
export interface RunOptions {
  /**
   * Decide when the statement is sent, not when it is queued: inside a
   * transaction (which its BEGIN already scoped) it goes as it is. For
   * clients from pool.connect(), where statements can queue behind a COMMIT.
   */
  skipInTransaction?: pg.ClientBase
  /**
   * Only where nothing else can be queued on the client behind this
   * statement (pool.query, pool.transaction's BEGIN): a retry joins the
   * back of pg's queue.
   */
  prepared?: PreparedSetters | null
}

/**
 * @internal Runs one statement on a checked-out client, with the setter in
 * the same pipeline (see ScopedQuery), or after it for a BEGIN with modes and
 * a COMMIT/ROLLBACK AND CHAIN (see ScopedBegin).
 */
export function runQuery(
  client: pg.ClientBase,
  setter: SetterStatement,
  input: QueryInput,
  values: unknown[] | undefined,
  options: RunOptions = {},
): Promise<pg.QueryResult> {
  return new Promise<pg.QueryResult>((resolve, reject) => {
    const config = typeof input === 'string' ? { text: input } : { ...input }
    // pg's own Query: results come out exactly as pg makes them. The wrapper
    // switches it to the extended protocol when it adds the setter.
    const statement = new pg.Query({ ...config, values: values ?? config.values } as pg.QueryConfig) as unknown as Submittable
    statement.callback = (error: Error | null, result: pg.QueryResult) => {
      if (error) reject(explain(error))
      else resolve(result)
    }
    const skip = skipInTransactionOf(options.skipInTransaction)
    let wrapper: StatementWrapper
    if (isBeginWithModes(config.text)) {
      wrapper = new ScopedBegin(setter, statement, skip)
    } else if (isChainedTransactionEnd(config.text)) {
      // The chained transaction starts without the setting: apply it again.
      wrapper = new ScopedBegin(setter, statement)
    } else {
      const { prepared } = options
      const retry = () => void client.query(new ScopedQuery(setter, statement) as unknown as pg.QueryConfig)
      const use = prepared && !(client as { pipeline?: boolean }).pipeline ? prepared.use(client, setter, retry) : undefined
      wrapper = new ScopedQuery(setter, statement, { prepared: use, skip })
    }
    wrapper.query_timeout = (config as { query_timeout?: number }).query_timeout
    client.query(wrapper as unknown as pg.QueryConfig)
  })
}

function skipInTransactionOf(client: pg.ClientBase | undefined): (() => boolean) | undefined {
  if (client === undefined) return undefined
  return () => {
    const state = connectionState(client)
    return state === 'T' || state === 'E'
  }
}

/** @internal Wraps a user submittable (a cursor, a stream) so it runs after the setter. */
export function scopeSubmittable<T extends Submittable>(client: pg.ClientBase, setter: SetterStatement, submittable: T): T {
  client.query(new ScopedQuery(setter, submittable, { skip: skipInTransactionOf(client) }) as unknown as pg.QueryConfig)
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
