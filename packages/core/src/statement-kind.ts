import { lexStatements } from './statement-lexer.js'

/** @internal What one top-level statement does to the transaction, as far as the setter cares. */
export type StatementKind =
  /** BEGIN, BEGIN WORK/TRANSACTION, START TRANSACTION: opens a transaction. */
  | 'begin'
  /** BEGIN or START TRANSACTION with modes: they must be set before any query. */
  | 'begin-with-modes'
  /** SET [LOCAL|SESSION] TRANSACTION ...: also before any query. */
  | 'set-transaction'
  /** COMMIT, END, ROLLBACK, ABORT (not TO SAVEPOINT), PREPARE TRANSACTION: closes the transaction. */
  | 'end'
  /** ... AND CHAIN: closes it and opens another without its settings. */
  | 'chained-end'
  /** CALL or DO: outside a transaction block, the routine may COMMIT and go on in a new transaction. */
  | 'call-or-do'
  | 'other'

/**
 * @internal What setter-placement.ts needs to know about a script (the text
 * of one query, one or more statements).
 */
export interface ScriptShape {
  /** No statement at all (empty, or only comments and semicolons). */
  readonly empty: boolean
  /** A plain BEGIN, then nothing but SET TRANSACTION. */
  readonly plainBeginFirst: boolean
  /** Only statements that set transaction modes (BEGIN included). */
  readonly modesOnly: boolean
  /** Starts with a BEGIN with modes, or chains a transaction anywhere: the setter must follow. */
  readonly setterAfter: boolean
  /** Closes the transaction and then runs more statements, outside it. */
  readonly closesThenContinues: boolean
  /** A CALL or DO, whose routine may run COMMIT or ROLLBACK itself. */
  readonly mayEndTransactions: boolean
}

const CACHE_LIMIT = 512
const CACHED_TEXT_LIMIT = 4096
const shapes = new Map<string, ScriptShape>()

/** A statement whose text is not known (a prepared statement run by name): one ordinary statement. */
export const UNKNOWN_STATEMENT: ScriptShape = shapeOf(['other'])

/**
 * @internal Cheap, for pool.query: false when `text` surely holds no CALL or
 * DO, from its first character (a comment or white space reads on).
 */
export function mayCallRoutine(text: unknown): boolean {
  if (typeof text !== 'string') return false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 32 || (c >= 9 && c <= 13)) continue
    // c, C, d, D, or a comment (/* or --): look closer, through the cached shape.
    return c === 99 || c === 67 || c === 100 || c === 68 || c === 47 || c === 45
  }
  return false
}

/** @internal The shape of `text`, cached per text (statements repeat). */
export function scriptShape(text: unknown): ScriptShape {
  if (typeof text !== 'string') return UNKNOWN_STATEMENT
  let shape = shapes.get(text)
  if (shape === undefined) {
    shape = shapeOf(statementKinds(text))
    if (text.length <= CACHED_TEXT_LIMIT) {
      if (shapes.size >= CACHE_LIMIT) shapes.clear()
      shapes.set(text, shape)
    }
  }
  return shape
}

/** @internal The kind of each top-level statement of `text`. */
export function statementKinds(text: string): StatementKind[] {
  const lexed = lexStatements(text)
  const kinds = lexed.statements.map(kindOf)
  if (!lexed.dependsOnBackslash) return kinds
  // With standard_conforming_strings = off (a session may set it), a
  // backslash escapes a quote in '...' and the statements may split
  // elsewhere. When the two readings differ, assume the worse: a script that
  // closes the transaction and goes on (the setter goes first, and the
  // extended protocol refuses a script).
  const other = lexStatements(text, true).statements.map(kindOf)
  return sameKinds(kinds, other) ? kinds : ['end', 'other']
}

function sameKinds(a: StatementKind[], b: StatementKind[]): boolean {
  return a.length === b.length && a.every((kind, i) => kind === b[i])
}

/** @internal From a statement's first tokens (see statement-lexer.ts). */
export function kindOf(tokens: readonly string[]): StatementKind {
  const [first, second] = tokens
  switch (first) {
    case 'begin':
    case 'start': {
      if (first === 'start' && second !== 'transaction') return 'other'
      const modesAt = first === 'start' || second === 'work' || second === 'transaction' ? 2 : 1
      return tokens.length > modesAt ? 'begin-with-modes' : 'begin'
    }
    case 'set': {
      const at = second === 'local' || second === 'session' ? 2 : 1
      return tokens[at] === 'transaction' ? 'set-transaction' : 'other'
    }
    case 'commit':
    case 'end':
    case 'rollback':
    case 'abort': {
      const at = second === 'work' || second === 'transaction' ? 2 : 1
      const next = tokens[at]
      if (next === 'and') return tokens[at + 1] === 'chain' ? 'chained-end' : 'end' // AND NO CHAIN
      if (next === 'to' && first === 'rollback') return 'other' // ROLLBACK TO SAVEPOINT
      if (next === 'prepared' && (first === 'commit' || first === 'rollback')) return 'other' // never inside a transaction
      return 'end' // anything else is a syntax error: nothing runs
    }
    case 'prepare':
      return second === 'transaction' ? 'end' : 'other'
    case 'call':
    case 'do':
      return 'call-or-do'
    default:
      return 'other'
  }
}

function shapeOf(kinds: readonly StatementKind[]): ScriptShape {
  const isMode = (kind: StatementKind) => kind === 'begin' || kind === 'begin-with-modes' || kind === 'set-transaction'
  const closes = (kind: StatementKind) => kind === 'end' || kind === 'chained-end'
  return {
    empty: kinds.length === 0,
    plainBeginFirst: kinds[0] === 'begin' && kinds.slice(1).every((kind) => kind === 'set-transaction'),
    modesOnly: kinds.length > 0 && kinds.every(isMode),
    setterAfter: kinds[0] === 'begin-with-modes' || kinds.includes('chained-end'),
    closesThenContinues: kinds.slice(0, -1).some(closes),
    mayEndTransactions: kinds.includes('call-or-do'),
  }
}
