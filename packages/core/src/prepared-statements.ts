import { createHash } from 'node:crypto'
import { type PgConnection, writeClose } from './_pg-internals.js'
import { TenantScopeError } from './errors.js'
import { lexStatements } from './statement-lexer.js'

/** The `prepareStatements` option of createTenantPool. */
export type PrepareStatementsOption = boolean | { readonly max?: number }

const DEFAULT_MAX = 100
// Statements a pool remembers the eligibility and name of (apps that inline
// values into their SQL make a new text per call).
const MAX_REMEMBERED = 1000
// Only these statements are named: their result types are fixed by their
// text and the tables they read. DDL, utility statements (SET, SHOW, COPY,
// EXPLAIN...), CALL and DO, and scripts are sent unnamed as always.
const PREPARABLE = new Set(['select', 'insert', 'update', 'delete', 'with', 'values', 'table', 'merge'])

// 26000: the statement is missing on this server connection (a pooler moved
// us). 42P05: it is already there (a pooler moved us onto a connection where
// another client prepared it). 0A000 "cached plan must not change result
// type": a table it reads changed shape since it was prepared. Retried only
// when raised by the prepared-statement machinery itself (the error's
// `routine`, the same on PostgreSQL 15 and 18, as postgres.js checks), at
// Parse or Bind, before the statement executes: the same codes raised while
// it runs (a function's feature_not_supported) must not run it twice.
const RETRYABLE = new Set(['26000', '42P05', '0A000'])
const RETRYABLE_ROUTINES = new Set(['FetchPreparedStatement', 'StorePreparedStatement', 'RevalidateCachedQuery'])

// As for the named setter (prepared-setter.ts): a pooler that loses the
// statement on about every query makes each one cost a second round trip,
// so the pool stops naming statements.
const WINDOW = 256
const MAX_MISSING_PER_WINDOW = 64

/**
 * @internal Per pool: users' statements (of `pool.query`) prepared once per
 * server connection. Names are content-addressed (a hash of the text and
 * the parameter types), so a name means the same statement on every server
 * connection, behind a pooler too. pg's Query does the naming work itself
 * (Parse only when `connection.parsedStatements` lacks the name); this
 * class picks which statements get a name, caps how many one connection
 * holds (least recently used goes, closed on the server in the same
 * pipeline), and decides when a failure is retried.
 */
export class PreparedStatements {
  readonly max: number
  readonly #names = new Map<string, string | null>()
  readonly #held = new WeakMap<object, Set<string>>()
  #attempts = 0
  #missing = 0
  #disabled = false

  constructor(max: number) {
    this.max = max
  }

  /**
   * The name to run `text` under, or undefined to send it unnamed. The
   * parameter types are the server's inference from the text (a config
   * with pg's `types` is sent unnamed), so the text alone names it.
   */
  nameOf(text: unknown): string | undefined {
    if (this.#disabled || typeof text !== 'string') return undefined
    let name = this.#names.get(text)
    if (name === undefined) {
      name = preparable(text) ? `tenantscope_s_${createHash('sha256').update(text).digest('hex').slice(0, 32)}` : null
      if (this.#names.size >= MAX_REMEMBERED) this.#names.clear()
      this.#names.set(text, name)
    }
    return name ?? undefined
  }

  /**
   * Called when the statement named `name` is written on `connection`:
   * marks it most recently used and, past the cap, closes the least recently
   * used one on the server (a Close message, answered with the rest of the
   * pipeline) and in pg's map of parsed statements.
   */
  admit(connection: PgConnection, name: string): void {
    let held = this.#held.get(connection)
    if (held === undefined) this.#held.set(connection, (held = new Set()))
    if (held.delete(name)) {
      held.add(name)
      return
    }
    if (held.size >= this.max) {
      const oldest = held.values().next().value as string
      held.delete(oldest)
      this.forget(connection, oldest)
    }
    held.add(name)
  }

  /**
   * The statement named `name` failed: when its Parse did (pg never marked
   * it parsed), it holds no slot, so that it evicts no statement that is there.
   */
  failed(connection: PgConnection, name: string): void {
    if (connection.parsedStatements[name] === undefined) this.#held.get(connection)?.delete(name)
  }

  /** Closes `name` on the server (no error if it is not there) and in pg's map. */
  forget(connection: PgConnection, name: string): void {
    this.#held.get(connection)?.delete(name)
    delete connection.parsedStatements[name]
    writeClose(connection, name)
  }

  /**
   * The named statement failed at Parse or Bind. True when the failure is
   * one that an unnamed retry heals (see RETRYABLE): nothing has executed.
   */
  retryable(error: unknown): boolean {
    const { code, routine } = (error ?? {}) as { code?: unknown; routine?: unknown }
    if (typeof code !== 'string' || !RETRYABLE.has(code) || typeof routine !== 'string' || !RETRYABLE_ROUTINES.has(routine)) return false
    if (code === '26000' && ++this.#missing >= MAX_MISSING_PER_WINDOW) this.#disabled = true
    return true
  }

  /** A named statement ran. */
  succeeded(): void {
    if (++this.#attempts >= WINDOW) this.#attempts = this.#missing = 0
  }
}

/** @internal Reads the option: undefined when off. Refuses anything else than documented (INVALID_CONFIG). */
export function preparedStatementsFrom(option: unknown): PreparedStatements | undefined {
  if (option === undefined || option === false) return undefined
  if (option === true) return new PreparedStatements(DEFAULT_MAX)
  if (typeof option === 'object' && option !== null && !Array.isArray(option)) {
    const keys = Object.keys(option)
    const max = (option as { max?: unknown }).max ?? DEFAULT_MAX
    if (keys.every((key) => key === 'max') && typeof max === 'number' && Number.isInteger(max) && max >= 1) {
      return new PreparedStatements(max)
    }
  }
  throw new TenantScopeError('INVALID_CONFIG', 'TenantPool: prepareStatements must be true, false or { max: a positive integer }')
}

// One statement whose first word says it reads or writes rows. Not
// SELECT ... INTO, which creates a table (any `into` after a SELECT, erring
// on the side of unnamed).
function preparable(text: string): boolean {
  const lexed = lexStatements(text)
  if (lexed.dependsOnBackslash || lexed.statements.length !== 1) return false
  const first = lexed.statements[0]![0]
  if (first === undefined || !PREPARABLE.has(first)) return false
  return !((first === 'select' || first === 'with') && SELECT_INTO.test(text))
}

const SELECT_INTO = /\bselect\b[\s\S]*\binto\b/i
