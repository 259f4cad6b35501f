import { beforeSync, corked, type PgConnection, type Submittable } from './_pg-internals.js'
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
    const withSetterBeforeSync = beforeSync(connection, (target) => this.writeSetter(target, this.#setter))
    return corked(connection, () => this.statement.submit(withSetterBeforeSync) ?? null)
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
