/** Stable codes: match on `error.code`, never on the message. */
export type TenantScopeErrorCode =
  /** A tenant-scoped query ran outside `withTenant`: refused before anything was sent. */
  | 'TENANT_CONTEXT_MISSING'
  /** The tenant id failed validation: refused before anything was sent. */
  | 'INVALID_TENANT_ID'
  /** A client or transaction bound to one tenant was used from inside another tenant's context. */
  | 'TENANT_MISMATCH'
  /** A client was used after `release()`: its connection may already serve someone else. */
  | 'CLIENT_RELEASED'
  /** Several statements in one query string, which a scoped single-statement query cannot carry. */
  | 'MULTI_STATEMENT_QUERY'
  /** COMMIT found the transaction already failed; PostgreSQL rolled it back. */
  | 'TRANSACTION_ROLLED_BACK'
  /** An extra setting name or value that cannot be sent. */
  | 'INVALID_SETTING'
  /** A pool configuration that cannot work (e.g. a malformed connection string). */
  | 'INVALID_CONFIG'
  /** A job payload carries no tenant (`@tenantscope/core/jobs`): the job is not run. */
  | 'JOB_TENANT_MISSING'
  /** A job payload's tenant id failed validation: the job is not run. */
  | 'JOB_TENANT_INVALID'
  /** A job payload is not an object, so it cannot carry a tenant: the job is not run. */
  | 'JOB_PAYLOAD_INVALID'

const brand = Symbol.for('tenantscope:TenantScopeError')
// Where a wrapper that copies `meta` (Prisma's PrismaClientKnownRequestError) keeps the original.
// A symbol key: spread copies it, JSON.stringify and Object.keys do not see it.
const original = Symbol.for('tenantscope:TenantScopeError:original')
const MAX_CAUSE_DEPTH = 8

/**
 * The one error class of tenantscope. Database errors are never wrapped
 * (their SQLSTATE `code` survives); these are tenantscope's own refusals.
 * Messages never contain tenant ids or query parameters.
 */
export class TenantScopeError extends Error {
  override readonly name: string = 'TenantScopeError'
  readonly code: TenantScopeErrorCode
  readonly [brand] = true

  constructor(code: TenantScopeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }

  /**
   * Prisma turns an error with a `code` that its driver adapter throws into a
   * `PrismaClientKnownRequestError` with the same `code` and a copy of the
   * error's `meta`, and drops the error itself. This `meta` carries the
   * original through (under a symbol key), for `is()` and `from()`.
   */
  get meta(): Readonly<Record<symbol, TenantScopeError>> {
    return { [original]: this }
  }

  /**
   * True for a TenantScopeError from any installed copy of tenantscope, and
   * for an error of a driver or ORM that wraps one: as its `cause` (at any
   * depth), or as Prisma does (a `PrismaClientKnownRequestError` with the
   * same `code`). A wrapper keeps the refusal's `code`; `from()` returns the
   * TenantScopeError itself.
   * @example
   * catch (error) { if (TenantScopeError.is(error, 'TENANT_CONTEXT_MISSING')) ... } // pg, Drizzle, Kysely, Prisma
   */
  static is(error: unknown, code?: TenantScopeErrorCode): error is TenantScopeError {
    const found = TenantScopeError.from(error)
    return found !== undefined && (code === undefined || found.code === code)
  }

  /**
   * The TenantScopeError in `error`: `error` itself, its `cause` chain, or
   * the original a Prisma error kept in its `meta`; `undefined` when there is none.
   * @example const refusal = TenantScopeError.from(prismaError) // refusal?.code, refusal?.cause
   */
  static from(error: unknown): TenantScopeError | undefined {
    let current = error
    for (let depth = 0; depth < MAX_CAUSE_DEPTH && typeof current === 'object' && current !== null; depth++) {
      if ((current as { [brand]?: unknown })[brand] === true) return current as TenantScopeError
      const meta = (current as { meta?: unknown }).meta
      const kept = typeof meta === 'object' && meta !== null ? (meta as { [original]?: unknown })[original] : undefined
      if (typeof kept === 'object' && kept !== null && (kept as { [brand]?: unknown })[brand] === true) {
        // Only when the wrapper still carries the same code: a meta copied onto an unrelated error does not count.
        if ((kept as TenantScopeError).code === (current as { code?: unknown }).code) return kept as TenantScopeError
      }
      current = (current as { cause?: unknown }).cause
    }
    return undefined
  }
}
