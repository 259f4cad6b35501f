/** Stable codes of the doctor's own refusals. */
export type DoctorErrorCode =
  /** `role` names a role that does not exist. */
  | 'ROLE_NOT_FOUND'
  /** An option that cannot work, such as an empty tenant column. */
  | 'INVALID_OPTION'

const brand = Symbol.for('tenantscope:DoctorError')

/** The doctor could not run (database errors pass through untouched). */
export class DoctorError extends Error {
  override readonly name = 'DoctorError'
  readonly code: DoctorErrorCode
  readonly [brand] = true

  constructor(code: DoctorErrorCode, message: string) {
    super(message)
    this.code = code
  }

  /** True for a DoctorError from any installed copy of tenantscope. */
  static is(error: unknown): error is DoctorError {
    return typeof error === 'object' && error !== null && (error as { [brand]?: unknown })[brand] === true
  }
}
