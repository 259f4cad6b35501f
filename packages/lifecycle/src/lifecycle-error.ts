const brand = Symbol.for('tenantscope:TenantLifecycleError')

/** Stable codes of tenant export, import and erase: match on `error.code`. */
export type TenantLifecycleErrorCode =
  /** No row of the tenant anywhere (export, erase), or no tenant table at all. */
  | 'TENANT_NOT_FOUND'
  /** The tenant id fails the parser: refused before anything is read or written. */
  | 'INVALID_TENANT_ID'
  /** The archive is missing a file, truncated, or a checksum does not match: nothing was written. */
  | 'ARCHIVE_INVALID'
  /** The target's tables do not match the archive's (a table or column missing, another type): nothing was written. */
  | 'SCHEMA_INCOMPATIBLE'
  /** The target already holds rows of the tenant, and `replace` was not asked for: nothing was written. */
  | 'TENANT_EXISTS'
  /** Erasing a tenant that may still be written to, without `force`. */
  | 'ERASE_REFUSED'
  /**
   * After the work, a count or checksum did not match: an import was rolled
   * back; an erase left rows (rerun it); a move found the source's rows
   * changed during the freeze (a write that did not go through a router):
   * the move was undone, the tenant unfrozen where it was.
   */
  | 'VERIFY_FAILED'
  /**
   * The connection failed midway: an export left a partial archive (rerun),
   * an import rolled back, an erase stopped between batches (rerun it), a
   * move stopped after its freeze began (the tenant may stay frozen where it
   * was, reads served and writes refused: run the same move again).
   */
  | 'INTERRUPTED'
  /** Options that cannot work. */
  | 'INVALID_CONFIG'
  /**
   * moveTenant: another move of the tenant is under way (or its source is not
   * erased yet: finishMove first), or the directory changed under it.
   * finishMove: the directory points at the move's source again (moved back?): nothing was erased.
   */
  | 'MOVE_IN_PROGRESS'
  /** moveTenant: a listening app instance did not acknowledge the freeze in time: the tenant was unfrozen where it was. Retry. */
  | 'FREEZE_TIMEOUT'
  /** moveTenant to a Citus node: no active worker node is at that host and port. */
  | 'NODE_NOT_FOUND'
  /** finishMove: the source's grace period is not over (pass force to erase it now). */
  | 'GRACE_PERIOD'
  /**
   * moveTenant: no app instance's directory listens, so none could
   * acknowledge the freeze; nothing was changed. Pass `settleMillis` (the
   * instances' directory TTL plus their longest write transaction) to move anyway.
   */
  | 'NO_LISTENERS'

/** A refusal or failure of tenant export, import or erase. Messages never contain tenant ids. */
export class TenantLifecycleError extends Error {
  override readonly name = 'TenantLifecycleError'
  readonly code: TenantLifecycleErrorCode
  readonly [brand] = true

  constructor(code: TenantLifecycleErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }

  /** True for a TenantLifecycleError from any installed copy. */
  static is(error: unknown, code?: TenantLifecycleErrorCode): error is TenantLifecycleError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as { [brand]?: unknown })[brand] === true &&
      (code === undefined || (error as TenantLifecycleError).code === code)
    )
  }
}
