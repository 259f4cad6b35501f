import type pg from 'pg'
import {
  beforeSync,
  corked,
  forgetSubmittedStatement,
  type PgConnection,
  queryClassOf,
  queueFirst,
  type Submittable,
  writeStatement,
} from './_pg-internals.js'
import { validateStatement } from './scoped-query.js'
import type { SetterStatement } from './setter.js'
import type { Placement } from './setter-placement.js'
import { StatementWrapper } from './statement-wrapper.js'

const NO_VALUES: readonly unknown[] = []

/**
 * @internal For a CALL or DO: outside a transaction, the statement runs in a
 * transaction block that the same pipeline opens and closes ('around'):
 *
 *   P/B/E(BEGIN)  P/B/E(setter)  P/B/D/E(statement)  P/B/E(COMMIT)  Sync
 *
 * Outside a transaction block a procedure or DO block may COMMIT or ROLLBACK
 * itself and go on in a new transaction, which would not have the setting.
 * Inside one PostgreSQL refuses that (SQLSTATE 2D000). Still one round trip.
 * When the statement fails the block is left aborted: a ROLLBACK is queued
 * ahead of anything else on the client.
 *
 * Inside a transaction (the setter pending: 'before'; or applied: 'none') it
 * behaves as ScopedQuery. Replies: the statement's go to it; those of BEGIN,
 * the setter and COMMIT are swallowed.
 */
export class ScopedBlock extends StatementWrapper {
  readonly #client: pg.ClientBase
  readonly #setter: SetterStatement
  readonly #decide: () => Placement
  /** CommandCompletes that come before the statement's (BEGIN, setter), once decided. */
  #before = 0
  #completed = 0
  #block = false
  /** What the statement writes to: in a block, the connection that writes COMMIT before each Sync. */
  #target: PgConnection | undefined

  /** `decide`, asked when the statement is sent: 'around', 'before' or 'none'. */
  constructor(client: pg.ClientBase, setter: SetterStatement, statement: Submittable, decide: () => Placement) {
    super(statement)
    this.#client = client
    this.#setter = setter
    this.#decide = decide
  }

  // As in ScopedQuery: pg records `name` as parsed on every ParseComplete.
  override get name(): string | undefined {
    return this.#completed >= this.#before ? this.statement.name : undefined
  }

  submit(connection: PgConnection): Error | null {
    const placement = this.#decide()
    if (placement === 'none') return this.statement.submit(connection) ?? null
    const invalid = validateStatement(this.statement, connection)
    if (invalid) return invalid
    this.useExtendedProtocol()
    this.#block = placement === 'around'
    this.#before = this.#block ? 2 : 1
    return corked(connection, () => {
      if (this.#block) writeStatement(connection, { text: 'BEGIN', values: NO_VALUES, parse: true })
      this.writeSetter(connection, this.#setter)
      if (this.#block) this.#target = beforeSync(connection, (c) => writeStatement(c, { text: 'COMMIT', values: NO_VALUES, parse: true }))
      return this.statement.submit(this.#target ?? connection) ?? null
    })
  }

  #forStatement(): boolean {
    return this.#completed === this.#before
  }

  override handleRowDescription(message: unknown): void {
    if (this.#forStatement()) super.handleRowDescription(message)
  }
  override handleDataRow(message: unknown): void {
    if (this.#forStatement()) super.handleDataRow(message)
  }
  // pg's Query may write its Sync from these (a query fetched in pages, with
  // `rows`): the COMMIT must still come first.
  override handleCommandComplete(message: unknown, connection: PgConnection): void {
    if (this.#forStatement()) super.handleCommandComplete(message, this.#target ?? connection)
    this.#completed++
  }
  override handlePortalSuspended(connection: PgConnection): void {
    super.handlePortalSuspended(this.#target ?? connection)
  }
  override handleEmptyQuery(connection: PgConnection): void {
    super.handleEmptyQuery(this.#target ?? connection)
  }

  override handleError(error: Error, connection: PgConnection): void {
    // The setter failed: the statement's Parse never ran (see ScopedQuery).
    if (this.#completed < this.#before) forgetSubmittedStatement(connection, this.statement.name)
    // The block is aborted once BEGIN ran: end it before anything else runs.
    if (this.#block && this.#completed >= 1) queueFirst(this.#client, rollbackOn(this.#client))
    super.handleError(error, connection)
  }
}

// A ROLLBACK whose outcome no one waits for (a failure means the connection is gone).
function rollbackOn(client: pg.ClientBase): Submittable {
  const Query = queryClassOf(client)
  return new Query('ROLLBACK', undefined, () => undefined) as unknown as Submittable
}
