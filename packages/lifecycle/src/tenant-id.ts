import { type TenantIdParser, uuidTenantId } from '@tenantscope/core'
import { TenantLifecycleError } from './lifecycle-error.js'

/** @internal Parses a tenant id with the pool's parser (a UUID by default); never repeats the id. */
export function parseTenant(raw: unknown, parse: TenantIdParser = uuidTenantId): string {
  let id: unknown
  try {
    if (typeof raw !== 'string' || raw.length === 0 || raw.length > 256) throw new Error('not an id')
    id = parse(raw)
  } catch {
    // The parser's own error may repeat the id: not kept as a cause.
    throw new TenantLifecycleError('INVALID_TENANT_ID', 'The tenant id is not valid for the parser')
  }
  if (typeof id !== 'string' || id.length === 0)
    throw new TenantLifecycleError('INVALID_TENANT_ID', 'The tenant id is not valid for the parser')
  return id
}
