import type { PgConnection, Submittable } from './_pg-internals.js'
import type { SetterStatement } from './setter.js'
import { StatementWrapper } from './statement-wrapper.js'

/**
 * @internal Like ScopedQuery, with the setter AFTER the statement, still in
 * one pipeline:
 *
 *   Parse/Bind/Describe/Execute(statement)  Parse/Bind/Execute(setter)  Sync
 *
 * For a BEGIN that sets transaction modes (`BEGIN ISOLATION LEVEL
 * SERIALIZABLE`, `begin read only`): PostgreSQL refuses to set them once any
 * query ran in the transaction (SQLSTATE 25001), and the setter is a query.
 * For COMMIT/ROLLBACK AND CHAIN: the chained transaction starts without the
 * ended one's settings, so the setter applies them again.
 *
 * The setter's messages are written when pg's Query writes its Sync. Replies
 * go to the statement until its CommandComplete; the setter's are swallowed.
 * If the setter fails, the error reaches the caller and the transaction is
 * aborted: nothing runs without the tenant.
 */
export class ScopedBegin extends StatementWrapper {
  #beginDone = false
  #setterSent = false
  readonly #setter: SetterStatement
  readonly #skip: (() => boolean) | undefined

  /** `skip`, asked when the statement is sent: true sends it without the setter. */
  constructor(setter: SetterStatement, statement: Submittable, skip?: () => boolean) {
    super(statement)
    this.#setter = setter
    this.#skip = skip
  }

  submit(connection: PgConnection): Error | null {
    if (this.#skip?.()) return this.statement.submit(connection) ?? null
    this.#setterSent = true
    this.useExtendedProtocol()
    // pg's Query validates before writing anything; the setter is written
    // only with the Sync, so a refused BEGIN leaves nothing half-sent.
    const withSetterBeforeSync = new Proxy(connection, {
      get: (target, property) => {
        if (property === 'sync') {
          return () => {
            this.writeSetter(target, this.#setter)
            target.sync()
          }
        }
        const value: unknown = Reflect.get(target, property)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    connection.stream.cork?.()
    try {
      return this.statement.submit(withSetterBeforeSync) ?? null
    } finally {
      connection.stream.uncork?.()
    }
  }

  // Replies after the statement's CommandComplete are the setter's.
  override handleRowDescription(message: unknown): void {
    if (!this.#setterReplying()) super.handleRowDescription(message)
  }
  override handleDataRow(message: unknown): void {
    if (!this.#setterReplying()) super.handleDataRow(message)
  }
  override handleCommandComplete(message: unknown, connection: PgConnection): void {
    if (!this.#setterReplying()) super.handleCommandComplete(message, connection)
    this.#beginDone = true
  }

  #setterReplying(): boolean {
    return this.#setterSent && this.#beginDone
  }
}

// Leading comments and white space, as a client may put before a statement.
const LEADING = String.raw`^(?:\s|/\*[\s\S]*?\*/|--[^\n]*(?:\n|$))*`

// BEGIN or START TRANSACTION followed by modes (isolation level, read
// only/write, deferrable).
const BEGIN_WITH_MODES = new RegExp(`${LEADING}(begin|start\\s+transaction)\\s+(?!(transaction|work)?\\s*;?\\s*$)\\S`, 'i')

// COMMIT/END/ROLLBACK/ABORT ... AND CHAIN: a new transaction starts at once,
// without the settings of the one that ended.
const CHAINED_END = new RegExp(`${LEADING}(commit|end|rollback|abort)\\b[^;]*\\band\\s+chain\\b`, 'i')

// A BEGIN without modes, and SET TRANSACTION (modes given after BEGIN).
const PLAIN_BEGIN = new RegExp(`${LEADING}(begin|start\\s+transaction)(\\s+(transaction|work))?\\s*;?\\s*$`, 'i')
const SET_TRANSACTION = new RegExp(`${LEADING}set\\s+(local\\s+)?transaction\\b`, 'i')

/** @internal */
export function isPlainBegin(text: unknown): boolean {
  return typeof text === 'string' && PLAIN_BEGIN.test(text)
}

/** @internal */
export function isSetTransaction(text: unknown): boolean {
  return typeof text === 'string' && SET_TRANSACTION.test(text)
}

/** @internal True for a BEGIN whose modes must come before the setter. */
export function isBeginWithModes(text: unknown): boolean {
  return typeof text === 'string' && BEGIN_WITH_MODES.test(text)
}

/** @internal True for a transaction end that chains a new transaction. */
export function isChainedTransactionEnd(text: unknown): boolean {
  return typeof text === 'string' && CHAINED_END.test(text)
}
