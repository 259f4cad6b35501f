/** Stable codes of the Citus tenant commands' own refusals. */
export type CitusAdminErrorCode =
  /** The database has no citus extension. */
  | 'NOT_CITUS'
  /** The table is not a distributed table (or not distributed by a column). */
  | 'NOT_DISTRIBUTED'
  /** No active worker other than the one the tenant is on. */
  | 'NO_TARGET_NODE'
  /** An option that cannot work (bad transfer mode, bad node). */
  | 'INVALID_OPTION'

const brand = Symbol.for('tenantscope:CitusAdminError')

/** A Citus tenant command could not run (database errors pass through untouched, SQLSTATE kept). */
export class CitusAdminError extends Error {
  override readonly name = 'CitusAdminError'
  readonly code: CitusAdminErrorCode
  readonly [brand] = true

  constructor(code: CitusAdminErrorCode, message: string) {
    super(message)
    this.code = code
  }

  /** True for a CitusAdminError from any installed copy of tenantscope. */
  static is(error: unknown): error is CitusAdminError {
    return typeof error === 'object' && error !== null && (error as { [brand]?: unknown })[brand] === true
  }
}
