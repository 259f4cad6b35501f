import type { PgConnection, Submittable } from './_pg-internals.js'
import type { SetterStatement } from './setter.js'
import { StatementWrapper } from './statement-wrapper.js'

/**
 * @internal Like ScopedQuery, for a BEGIN that sets transaction modes
 * (`BEGIN ISOLATION LEVEL SERIALIZABLE`, `begin read only`): PostgreSQL
 * refuses to set them once any query ran in the transaction (SQLSTATE 25001),
 * and the setter is a query. So the order is reversed, still one pipeline:
 *
 *   Parse/Bind/Describe/Execute(BEGIN ...)  Parse/Bind/Execute(setter)  Sync
 *
 * The setter's messages are written when pg's Query writes its Sync. Replies
 * go to the BEGIN until its CommandComplete; the setter's are swallowed. If
 * the setter fails, the error reaches the BEGIN's caller and the transaction
 * is aborted: nothing runs without the tenant.
 */
export class ScopedBegin extends StatementWrapper {
  #beginDone = false
  readonly #setter: SetterStatement

  constructor(setter: SetterStatement, statement: Submittable) {
    super(statement)
    this.#setter = setter
  }

  submit(connection: PgConnection): Error | null {
    const setter = this.#setter
    // pg's Query validates before writing anything; the setter is written
    // only with the Sync, so a refused BEGIN leaves nothing half-sent.
    const withSetterBeforeSync = new Proxy(connection, {
      get(target, property) {
        if (property === 'sync') {
          return () => {
            target.parse({ text: setter.text })
            target.bind({ values: setter.values })
            target.execute({})
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

  // Replies after the BEGIN's CommandComplete are the setter's.
  override handleRowDescription(message: unknown): void {
    if (!this.#beginDone) super.handleRowDescription(message)
  }
  override handleDataRow(message: unknown): void {
    if (!this.#beginDone) super.handleDataRow(message)
  }
  override handleCommandComplete(message: unknown, connection: PgConnection): void {
    if (!this.#beginDone) super.handleCommandComplete(message, connection)
    this.#beginDone = true
  }
}

// BEGIN or START TRANSACTION followed by modes (isolation level, read
// only/write, deferrable).
const BEGIN_WITH_MODES = /^\s*(begin|start\s+transaction)\s+(?!(transaction|work)?\s*;?\s*$)\S/i

/** @internal True for a BEGIN whose modes must come before the setter. */
export function isBeginWithModes(text: unknown): boolean {
  return typeof text === 'string' && BEGIN_WITH_MODES.test(text)
}
