import type pg from 'pg'
import { prepareValue, queryClassOf, type Submittable, statementText } from './_pg-internals.js'
import { citusStatement } from './citus-scoped-query.js'
import { connectionState, isSetterPending, setSetterPending } from './connection-state.js'
import { TenantScopeError } from './errors.js'
import { sendPoolStatement } from './pool-statement.js'
import type { PreparedSetters } from './prepared-setter.js'
import type { PreparedStatements } from './prepared-statements.js'
import { ScopedBegin } from './scoped-begin.js'
import { ScopedBlock } from './scoped-block.js'
import { ScopedQuery } from './scoped-query.js'
import { ScopedSubmittable } from './scoped-submittable.js'
import type { SetterStatement } from './setter.js'
import { type Phase, type Placement, placeSetter, setterPendingAfter } from './setter-placement.js'
import { mayCallRoutine, type ScriptShape, scriptShape } from './statement-kind.js'
import type { StatementWrapper } from './statement-wrapper.js'

/** The first argument of `pool.query`: SQL text or a pg query config. */
export type QueryInput = string | pg.QueryConfig

/** @internal How runQuery sends the setter (see setter-placement.ts). */
export interface RunOptions {
  /**
   * For clients from pool.connect(), where statements can queue behind a
   * BEGIN or a COMMIT: where the setter goes is decided when the statement
   * is sent, from the connection's phase then, not when it is queued.
   */
  decideWhenSent?: pg.ClientBase
  /** pool.transaction's own BEGIN: it carries the setter (the 'opening' phase). */
  opening?: boolean
  /**
   * Only where nothing else can be queued on the client behind this
   * statement (pool.query, pool.transaction's BEGIN): a retry joins the
   * back of pg's queue.
   */
  prepared?: PreparedSetters | null
  /** Citus mode: outside a transaction, BEGIN and COMMIT go around the statement (citus-scoped-query.ts). */
  citus?: boolean
  /**
   * pool.query only (prepareStatements): the user's statement is named,
   * parsed once per server connection. Never inside a user's transaction,
   * where a statement that the server lost would abort it; in Citus mode
   * inside the pool's own BEGIN/COMMIT, which is rolled back and sent again
   * unnamed then (citus-scoped-query.ts).
   */
  statements?: PreparedStatements | undefined
}

/**
 * @internal Runs one statement on a checked-out client, with the setter in
 * the same pipeline, before it (ScopedQuery) or after it (ScopedBegin).
 */
export function runQuery(
  client: pg.ClientBase,
  setter: SetterStatement,
  input: QueryInput,
  values: unknown[] | undefined,
  options: RunOptions = {},
): Promise<pg.QueryResult> {
  return new Promise<pg.QueryResult>((resolve, reject) => {
    sendQuery(client, setter, input, values, options, (error, result) => {
      if (error) reject(error)
      else resolve(result!)
    })
  })
}

/** @internal runQuery with a callback: the pool's hot path makes no promise of its own per step. */
export function sendQuery(
  client: pg.ClientBase,
  setter: SetterStatement,
  input: QueryInput,
  values: unknown[] | undefined,
  options: RunOptions,
  done: (error: Error | null, result?: pg.QueryResult, unsent?: boolean) => void,
): void {
  // The common case of pool.query and pool.transaction's plain BEGIN: pg's
  // own Query with the named setter ahead of it, no wrapper (pool-statement.ts).
  if (options.decideWhenSent === undefined && sendPoolStatement(client, setter, input, values, options, done)) return
  // The client's own pg's Query: results come out exactly as that pg makes
  // them. The wrapper switches it to the extended protocol when it adds the
  // setter. pg copies a config object itself (and a string costs no copy),
  // so it is passed as given.
  const Query = queryClassOf(client)
  const statement = new Query(input as pg.QueryConfig, values as never) as unknown as Submittable
  // Before anything is written: pg converts the values while it writes the
  // Bind, after the setter, and a conversion that throws would settle the
  // query there and again when the connection ends.
  const unserialisable = serialiseValues(statement)
  if (unserialisable !== undefined) {
    done(unserialisable, undefined, true)
    return
  }
  // At most once, whatever pg reports after the outcome.
  let settled = false
  statement.callback = (error: Error | null, result: pg.QueryResult) => {
    if (settled) return
    settled = true
    if (error) done(explain(error))
    else done(null, result)
  }
  const bound = options.decideWhenSent
  let wrapper: StatementWrapper
  if (bound !== undefined) {
    wrapper = wrapForClient(bound, setter, statement, options.citus ?? false)
  } else {
    // pool.query ('single': classified only when it may be a CALL or DO) or
    // pool.transaction's BEGIN ('opening').
    const { text } = statement
    const placement = options.opening
      ? placeSetter(scriptShape(text), 'opening')
      : mayCallRoutine(text)
        ? placeSetter(scriptShape(text), 'single')
        : 'before'
    if (placement === 'after' || (options.citus && options.opening)) {
      // Citus mode: the BEGIN of pool.transaction carries the setter after it,
      // inside the block (Citus forwards a SET LOCAL only there).
      wrapper = new ScopedBegin(setter, statement)
    } else if (placement === 'around') {
      wrapper = new ScopedBlock(client, setter, statement, () => placement)
    } else if (options.citus) {
      // Citus mode: BEGIN, setter, statement, COMMIT.
      const { prepared, statements } = options
      wrapper = citusStatement(client, setter, statement, undefined, true, prepared?.use(client, setter), {
        statements: statements && nameStatement(statement, statements, input),
      })
    } else {
      const { prepared, statements } = options
      wrapper = new ScopedQuery(setter, statement, {
        prepared: prepared ? prepared.use(client, setter) : undefined,
        preparedStatement: statements && nameStatement(statement, statements, input),
        client,
      })
    }
  }
  wrapper.query_timeout = typeof input === 'string' ? undefined : (input as { query_timeout?: number }).query_timeout
  client.query(wrapper as unknown as pg.QueryConfig)
}

// pg's own conversion (a string, a Buffer or null, which pg's Bind then
// passes on unchanged), done once here; the error of a value that cannot be
// converted (a BigInt inside an object for JSON.stringify, a throwing
// toPostgres), or undefined. (Before pg 8.16, which does not export it, pg
// converts at Bind and the callback's guard keeps the outcome to one.)
function serialiseValues(statement: Submittable): Error | undefined {
  const { values } = statement
  if (prepareValue === undefined || !Array.isArray(values) || values.length === 0) return undefined
  // Only an object's conversion can throw (toPostgres, JSON.stringify, a
  // Date's or an array's elements): with none among the values, pg's Bind
  // converts them as it would have here, and nothing is copied per call.
  if (!hasObjectValue(values)) return undefined
  try {
    statement.values = values.map(prepareValue)
    return undefined
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error))
  }
}

/**
 * @internal What pg's prepareValue converts without running any code of the
 * value's: null, undefined, strings, numbers and booleans are not objects here.
 */
function isObjectValue(value: unknown): boolean {
  return value !== null && value !== undefined && typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean'
}

/** @internal Whether any of `values` is an object value (see isObjectValue). A loop: with some(), the profile showed its callback as a call of its own on every statement. */
export function hasObjectValue(values: readonly unknown[]): boolean {
  for (let i = 0; i < values.length; i++) if (isObjectValue(values[i])) return true
  return false
}

// prepareStatements: runs the statement under its content-addressed name
// (pg's Query then parses it only where the connection lacks it). A
// statement that already has a name (the user's own), or pg's `types`, or
// `rows` (read in pages) is sent as it is.
function nameStatement(statement: Submittable, statements: PreparedStatements, input: QueryInput): PreparedStatements | undefined {
  if (statement.name !== undefined) return undefined
  if (typeof input !== 'string' && (input.types !== undefined || (input as { rows?: unknown }).rows !== undefined)) return undefined
  const name = statements.nameOf(statement.text)
  if (name === undefined) return undefined
  statement.name = name
  return statements
}

/**
 * @internal Wraps a user submittable (a cursor, a stream, a COPY, a pg.Query)
 * so it runs with the setter: see ScopedSubmittable. A pg.Query whose script
 * needs the setter after it, or around it (a CALL or DO), is wrapped as a
 * statement of the client's is.
 */
export function scopeSubmittable<T extends Submittable>(client: pg.ClientBase, setter: SetterStatement, submittable: T, citus = false): T {
  const shape = scriptShape(statementText(client, submittable))
  const skip = () => decideWhenSent(client, shape) === 'none'
  const wrapper =
    isPgQuery(client, submittable) && (shape.setterAfter || shape.mayEndTransactions)
      ? wrapForClient(client, setter, submittable, citus)
      : citus
        ? // Citus mode: a query object cannot commit before its last row: refused outside a transaction.
          citusStatement(client, setter, submittable, skip, false)
        : new ScopedSubmittable(setter, submittable, skip, client)
  client.query(wrapper as unknown as pg.QueryConfig)
  return submittable
}

// A statement on a client from pool.connect(). For one script the possible
// placements are those of one wrapper (see setter-placement.ts), so the
// wrapper is picked now and asks when sent.
function wrapForClient(client: pg.ClientBase, setter: SetterStatement, statement: Submittable, citus: boolean): StatementWrapper {
  const shape = scriptShape(statementText(client, statement))
  const skip = () => decideWhenSent(client, shape) === 'none'
  // A query object such as a cursor cannot be followed by the setter (it
  // writes no Sync of its own): it gets the setter first. (Only pg's Query
  // runs a CALL or DO.)
  if (shape.setterAfter && isPgQuery(client, statement)) return new ScopedBegin(setter, statement, skip)
  if (shape.mayEndTransactions && isPgQuery(client, statement))
    return new ScopedBlock(client, setter, statement, () => decideWhenSent(client, shape))
  // Citus mode: outside a transaction the statement goes inside BEGIN/COMMIT (see citus-scoped-query.ts).
  if (citus) return citusStatement(client, setter, statement, skip)
  return new ScopedQuery(setter, statement, { skip })
}

function isPgQuery(client: pg.ClientBase, statement: Submittable): boolean {
  return statement instanceof queryClassOf(client)
}

function decideWhenSent(client: pg.ClientBase, shape: ScriptShape): Placement {
  const phase = phaseOf(client)
  const placement = placeSetter(shape, phase)
  setSetterPending(client, setterPendingAfter(phase, placement))
  return placement
}

function phaseOf(client: pg.ClientBase): Phase {
  switch (connectionState(client)) {
    case 'T':
      return isSetterPending(client) ? 'pending' : 'scoped'
    case 'E':
      return 'failed'
    default:
      return 'idle'
  }
}

/** @internal The extended protocol takes one statement per Parse; say what to do instead. */
export function explain(error: Error): Error {
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
