import type { SetterStatement } from '@tenantscope/core'
import { type Handler, handlerOf, isQuery, type QueryInternals, type SqlLike, sendNow } from './_postgres-internals.js'

/** The part of a postgres.js transaction `sql` (what `sql.begin` passes) the wrapper uses. */
export interface TransactionSqlLike extends SqlLike {
  savepoint(...args: unknown[]): Promise<unknown>
}

// SET TRANSACTION must come before any query of the transaction (Drizzle's
// tx.setTransaction sends it first): the setter waits behind it.
const SET_TRANSACTION = /^\s*set\s+transaction\b/i

/**
 * @internal `tx` (from postgres.js's `sql.begin`) seen through a function
 * that sends the tenant setter right before the transaction's first
 * statement, in the same write: after BEGIN, which postgres.js sends alone,
 * a scoped transaction costs no round trip more than a raw one. A savepoint
 * sends the setter first if nothing did yet; its inner `sql` is postgres.js's
 * own (the setting already holds for the whole transaction).
 */
export function scopeTransaction(tx: TransactionSqlLike, setter: SetterStatement): TransactionSqlLike {
  const txHandler = handlerOf(tx)
  let applied = false
  const applyOnce = () => {
    if (applied) return
    applied = true
    // tx's handler records a failure of the setter: the transaction then
    // rolls back and sql.begin rejects with it. No statement ran without it.
    sendNow(tx.unsafe(setter.text, [...setter.values], { prepare: true }), txHandler)
  }
  const intercept = <T>(made: T): T => {
    if (!isQuery(made)) return made
    const original = made.handler
    const handler: Handler = (query: QueryInternals) => {
      if (!(query.strings.length > 0 && SET_TRANSACTION.test(query.strings[0]!))) applyOnce()
      original(query)
    }
    handler.debug = original.debug
    made.handler = handler
    return made
  }
  const scoped = ((first: unknown, ...rest: unknown[]) => intercept(tx(first, ...rest))) as TransactionSqlLike
  Object.assign(scoped, tx)
  scoped.unsafe = (...args: Parameters<SqlLike['unsafe']>) => intercept(tx.unsafe(...args))
  const file = (tx as unknown as { file?: (...args: unknown[]) => unknown }).file
  if (typeof file === 'function') (scoped as unknown as { file: unknown }).file = (...args: unknown[]) => intercept(file(...args))
  scoped.savepoint = (...args: unknown[]) => {
    applyOnce()
    return tx.savepoint(...args)
  }
  return scoped
}
