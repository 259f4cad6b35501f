import { brandError } from './_branded-error.js'
import type { JobTenantErrorCode } from './jobs/job-tenant-error-code.js'

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
  /**
   * The tenant's share of the pool is used up: its queue is full, or its
   * request waited too long for a connection (see `fairness`). Retryable:
   * `TenantOverloadError` carries a `retryAfter` hint in seconds.
   */
  | 'TENANT_OVERLOADED'
  /** Citus mode: a cursor, stream or `rows` query outside a transaction (it cannot commit before its last row). */
  | 'CITUS_TRANSACTION_REQUIRED'
  /**
   * Citus mode: the tenant's shard was split or moved while the statement ran
   * (Citus's XX000 "... shard <id>", kept as `cause`). It was rolled back:
   * retry the statement or the transaction.
   */
  | 'CITUS_SHARD_MOVED'
  /** `@tenantscope/router`: the directory has no entry for the tenant; nothing was sent (never a fallback to a shared pool). */
  | 'TENANT_UNKNOWN'
  /** `@tenantscope/router`: the tenant is read-only and the statement tried to write. */
  | 'TENANT_READ_ONLY'
  /** `@tenantscope/router`: the tenant is moving or suspended; nothing was sent. Retry later. */
  | 'TENANT_UNAVAILABLE'
  /** `@tenantscope/router`: every connection under the cap stayed busy past the wait limit. Retry later. */
  | 'TENANT_POOL_EXHAUSTED'
  /** `@tenantscope/router`: a migration that already ran was edited (its checksum differs). */
  | 'MIGRATION_CHECKSUM_MISMATCH'
  /** `@tenantscope/router`: a migration failed on one or more targets (see the error's details). */
  | 'MIGRATION_FAILED'

/** Every code a TenantScopeError can carry: its own, and those of its subclass JobTenantError (`@tenantscope/core/jobs`). */
type AnyTenantScopeErrorCode = TenantScopeErrorCode | JobTenantErrorCode

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
  /** A JobTenantError (a subclass) carries a JobTenantErrorCode instead. */
  readonly code: AnyTenantScopeErrorCode

  constructor(code: AnyTenantScopeErrorCode, message: string, options?: { cause?: unknown }) {
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
   * True for a TenantScopeError (or a subclass) from any installed copy of
   * tenantscope, and for the error Prisma makes of one (a
   * `PrismaClientKnownRequestError` with the same `code`, whose `meta` kept
   * the original). Other wrappers are not recognised here, so that
   * `is(wrapper)` stays false for an error that only carries a refusal as its
   * `cause`: `from()` looks there too.
   * @example
   * catch (error) { if (TenantScopeError.is(error, 'TENANT_CONTEXT_MISSING')) ... } // pg, Drizzle, Kysely, Prisma
   */
  static is(error: unknown, code?: AnyTenantScopeErrorCode): error is TenantScopeError {
    const found = ownOrKept(error)
    return found !== undefined && (code === undefined || found.code === code)
  }

  /**
   * The TenantScopeError in `error`: `error` itself, the original a Prisma
   * error kept in its `meta`, or either of those along its `cause` chain;
   * `undefined` when there is none.
   * @example const refusal = TenantScopeError.from(error) // refusal?.code, refusal?.cause
   */
  static from(error: unknown): TenantScopeError | undefined {
    let current = error
    for (let depth = 0; depth < MAX_CAUSE_DEPTH && typeof current === 'object' && current !== null; depth++) {
      const found = ownOrKept(current)
      if (found !== undefined) return found
      current = (current as { cause?: unknown }).cause
    }
    return undefined
  }
}

const isBranded = brandError(TenantScopeError, 'TenantScopeError')

// The error itself, or the original a wrapper kept in its `meta` (Prisma), as long as the
// wrapper still carries the same code: a meta copied onto an unrelated error does not count.
function ownOrKept(error: unknown): TenantScopeError | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  if (isBranded(error)) return error
  const meta = (error as { meta?: unknown }).meta
  const kept = typeof meta === 'object' && meta !== null ? (meta as { [original]?: unknown })[original] : undefined
  return isBranded(kept) && kept.code === (error as { code?: unknown }).code ? kept : undefined
}
