import type { ScriptShape } from './statement-kind.js'

/**
 * @internal Where the setter goes relative to the user's statement, in the
 * same pipeline before one Sync:
 * - 'before': setter, statement (ScopedQuery). The statement switches to the
 *   extended protocol, which carries one statement: a script is refused
 *   (MULTI_STATEMENT_QUERY) before any of it runs.
 * - 'after': statement, setter (ScopedBegin), for modes that must come before
 *   any query and for transactions that a chained COMMIT/ROLLBACK opens.
 * - 'none': the statement goes as it is (simple protocol: scripts run).
 * - 'around': BEGIN, setter, statement, COMMIT (ScopedBlock), for a CALL or
 *   DO outside a transaction: in a transaction block PostgreSQL refuses a
 *   COMMIT or ROLLBACK inside the routine (SQLSTATE 2D000), which would
 *   otherwise run the rest of the routine in a new transaction without the
 *   setting.
 */
export type Placement = 'before' | 'after' | 'none' | 'around'

/**
 * @internal Where the connection is when the statement is sent.
 * - 'single': `pool.query`, one statement on a fresh checkout: the setter
 *   goes first (a connection that it leaves inside a transaction is
 *   destroyed on release). Only a statement whose first character may start
 *   a CALL or DO (or a comment) is classified (see mayCallRoutine).
 * - 'opening': the BEGIN that `pool.transaction` builds itself: it carries the setter.
 * - 'idle', 'pending', 'scoped', 'failed': a client from `pool.connect()`:
 *   outside a transaction; in one opened by a plain BEGIN that went without
 *   the setter; in one that has it; in a failed one.
 */
export type Phase = 'single' | 'opening' | 'idle' | 'pending' | 'scoped' | 'failed'

/**
 * @internal The one decision, as a table (see setter-placement.test.ts):
 *
 * | phase            | script                                   | setter |
 * | ---------------- | ---------------------------------------- | ------ |
 * | single           | CALL or DO                               | around |
 * | single           | anything else                            | before |
 * | opening          | BEGIN with modes                         | after  |
 * | opening          | plain BEGIN                              | before |
 * | idle             | plain BEGIN, then only SET TRANSACTION   | none, and the setter is pending |
 * | idle             | BEGIN with modes first, or AND CHAIN     | after  |
 * | idle             | CALL or DO                               | around |
 * | idle             | anything else                            | before |
 * | pending          | empty, or only BEGIN / SET TRANSACTION   | none, still pending |
 * | pending          | BEGIN with modes first, or AND CHAIN     | after  |
 * | pending          | anything else                            | before |
 * | scoped, failed   | AND CHAIN anywhere, BEGIN with modes first | after |
 * | scoped, failed   | closes the transaction, then goes on     | before (a script: refused) |
 * | scoped, failed   | anything else                            | none   |
 *
 * Why each row: the setter must reach every statement, and SET TRANSACTION
 * (or modes in a BEGIN) must come before any query; a chained COMMIT opens a
 * transaction without the setting; a script that closes the transaction runs
 * the rest of it outside. When a script cannot be sent so that all of it runs
 * with the setter, the placement is one that the extended protocol refuses,
 * so nothing runs. A routine outside a transaction could end it: it runs in a
 * transaction block of its own. For one script the placement is 'after' or
 * 'none' in every phase; or 'around', 'before' or 'none' (a CALL or DO); or
 * 'before' or 'none' (ScopedBegin, ScopedBlock or ScopedQuery is picked when
 * the statement is queued).
 */
export function placeSetter(shape: ScriptShape, phase: Phase): Placement {
  switch (phase) {
    case 'single':
      return shape.mayEndTransactions ? 'around' : 'before'
    case 'opening':
      return shape.setterAfter ? 'after' : 'before'
    case 'idle':
      if (shape.plainBeginFirst) return 'none'
      if (shape.setterAfter) return 'after'
      return shape.mayEndTransactions ? 'around' : 'before'
    case 'pending':
      if (shape.empty || shape.modesOnly) return 'none'
      return shape.setterAfter ? 'after' : 'before'
    case 'scoped':
    case 'failed':
      if (shape.setterAfter) return 'after'
      return shape.closesThenContinues ? 'before' : 'none'
  }
}

/** @internal After the statement is sent: is the transaction still waiting for its setter? */
export function setterPendingAfter(phase: Phase, placement: Placement): boolean {
  return (phase === 'idle' || phase === 'pending') && placement === 'none'
}
