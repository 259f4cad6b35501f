import type { TenantIsolationReport } from './report.js'

/** Stable codes: match on `error.code`. */
export type TenantIsolationErrorCode =
  /** At least one check failed; `error.report` lists every failure. */
  | 'ISOLATION_FAILED'
  /** The pool connects as a superuser or BYPASSRLS role: RLS does not apply, so nothing could be proven. */
  | 'PRIVILEGED_ROLE'
  /** Options that cannot work (an unknown table, no tenant table at all). */
  | 'INVALID_OPTIONS'
  /** The throwaway tenants could not be created. */
  | 'SETUP_FAILED'
  /** The throwaway tenants created with adminPool could not be deleted: they are left committed (the message names them). */
  | 'CLEANUP_FAILED'

const brand = Symbol.for('tenantscope:TenantIsolationError')

/** What assertTenantIsolation throws. Test runners print its message: every failing table with the reason. */
export class TenantIsolationError extends Error {
  override readonly name = 'TenantIsolationError'
  readonly code: TenantIsolationErrorCode
  /** The full report, for ISOLATION_FAILED. */
  readonly report: TenantIsolationReport | undefined
  readonly [brand] = true

  constructor(code: TenantIsolationErrorCode, message: string, options: { report?: TenantIsolationReport; cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.code = code
    this.report = options.report
  }

  /** True for a TenantIsolationError from any installed copy. */
  static is(error: unknown, code?: TenantIsolationErrorCode): error is TenantIsolationError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as { [brand]?: unknown })[brand] === true &&
      (code === undefined || (error as TenantIsolationError).code === code)
    )
  }
}
