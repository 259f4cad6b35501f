import { TenantResolutionError } from './resolution-error.js'
import { readHeader, type HeaderSource } from './read-header.js'
import type { TenantResolver } from './tenant-resolver.js'

export interface TrustedHeaderTenantOptions {
  /** @default 'x-tenant-id' */
  header?: string
}

/**
 * Reads the tenant from a request header, as set by a trusted internal hop
 * (an API gateway or service mesh that authenticated the caller and strips
 * the header from outside traffic).
 *
 * WARNING: a bare `x-tenant-id` header lets ANY caller choose ANY tenant.
 * Never expose a service using this resolver to clients directly; resolve
 * the tenant from a verified token (`jwtTenant`) or a session instead.
 * @example app.use(tenantMiddleware({ resolveTenant: trustedHeaderTenant() })) // behind the gateway only
 */
export function trustedHeaderTenant(options: TrustedHeaderTenantOptions = {}): TenantResolver<HeaderSource> {
  const header = (options.header ?? 'x-tenant-id').toLowerCase()
  return (request) => {
    const value = readHeader(request, header)
    if (value === 'ambiguous') throw new TenantResolutionError('INVALID_TENANT_ID', `The ${header} header must appear once`)
    return value === undefined || value === '' ? undefined : value
  }
}
