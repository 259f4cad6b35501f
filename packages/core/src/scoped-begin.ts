import type { PgConnection, Submittable } from './_pg-internals.js'
import type { SetterStatement } from './setter.js'

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
export class ScopedBegin implements Submittable {
  #beginDone = false
  readonly #setter: SetterStatement
  readonly #statement: Submittable

  constructor(setter: SetterStatement, statement: Submittable) {
    this.#setter = setter
    this.#statement = statement
  }

  get name(): string | undefined {
    return this.#statement.name
  }
  get text(): string | undefined {
    return this.#statement.text
  }
  get _result(): unknown {
    return this.#statement._result
  }
  get binary(): boolean | undefined {
    return this.#statement.binary
  }
  set binary(value: boolean | undefined) {
    this.#statement.binary = value
  }
  get callback(): unknown {
    return this.#statement.callback
  }
  set callback(value: unknown) {
    this.#statement.callback = value
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
      return this.#statement.submit(withSetterBeforeSync) ?? null
    } finally {
      connection.stream.uncork?.()
    }
  }

  handleDataRow(message: unknown): void {
    if (!this.#beginDone) this.#statement.handleDataRow?.(message)
  }
  handleCommandComplete(message: unknown, connection: PgConnection): void {
    if (!this.#beginDone) this.#statement.handleCommandComplete?.(message, connection)
    this.#beginDone = true
  }
  handleRowDescription(message: unknown): void {
    if (!this.#beginDone) this.#statement.handleRowDescription?.(message)
  }
  handleEmptyQuery(connection: PgConnection): void {
    this.#statement.handleEmptyQuery?.(connection)
  }
  handlePortalSuspended(connection: PgConnection): void {
    this.#statement.handlePortalSuspended?.(connection)
  }
  handleError(error: Error, connection: PgConnection): void {
    this.#statement.handleError?.(error, connection)
  }
  handleReadyForQuery(connection: PgConnection): void {
    this.#statement.handleReadyForQuery?.(connection)
  }
}

// BEGIN or START TRANSACTION followed by modes (isolation level, read
// only/write, deferrable).
const BEGIN_WITH_MODES = /^\s*(begin|start\s+transaction)\s+(?!(transaction|work)?\s*;?\s*$)\S/i

/** @internal True for a BEGIN whose modes must come before the setter. */
export function isBeginWithModes(text: unknown): boolean {
  return typeof text === 'string' && BEGIN_WITH_MODES.test(text)
}
