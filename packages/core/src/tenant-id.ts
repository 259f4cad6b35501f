import { checkTenantId } from './_check-tenant-id.js'
import { TenantScopeError } from './errors.js'

/**
 * Validates a raw tenant id and returns the canonical text sent to the
 * database. Throw (anything) to reject; tenantscope reports it as
 * `INVALID_TENANT_ID` without echoing the id.
 */
export type TenantIdParser = (raw: string) => string

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** The default: a UUID in its canonical 8-4-4-4-12 form, normalised to lower case. */
export const uuidTenantId: TenantIdParser = (raw) => {
  if (raw.length !== 36 || !UUID.test(raw)) throw new Error('not a UUID')
  return raw.toLowerCase()
}

const TEXT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/

/** Text slugs such as `acme` or `tenant_42`: ASCII letters, digits, `_` and `-`, at most 63 characters. */
export const textTenantId: TenantIdParser = (raw) => {
  if (!TEXT_ID.test(raw)) throw new Error('not a tenant slug')
  return raw
}

const BIGINT_ID = /^(0|[1-9][0-9]{0,18})$/
const BIGINT_MAX = 9223372036854775807n

/** Non-negative integer ids that fit a PostgreSQL `bigint`. */
export const bigintTenantId: TenantIdParser = (raw) => {
  if (!BIGINT_ID.test(raw) || BigInt(raw) > BIGINT_MAX) throw new Error('not a bigint id')
  return raw
}

/** @internal Runs a parser; every failure becomes INVALID_TENANT_ID and no id is echoed. */
export function parseTenantIdWith(parser: TenantIdParser, raw: unknown): string {
  const checked = checkTenantId(parser, raw)
  if (!checked.ok) throw new TenantScopeError('INVALID_TENANT_ID', checked.reason)
  return checked.tenantId
}
