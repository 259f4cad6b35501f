import { TenantScopeError } from '@tenantscope/core'
import { type OptionRules, readOptions } from '../_options.js'
import { type HeaderSource, readHeader } from './read-header.js'
import { TenantResolutionError } from './resolution-error.js'
import type { TenantResolver } from './tenant-resolver.js'

export interface TrustedHeaderTenantOptions {
  /** @default 'x-tenant-id' */
  header?: string
}

// An HTTP header name (RFC 9110 token).
const RULES: OptionRules<TrustedHeaderTenantOptions> = {
  header: { expected: 'an HTTP header name', check: (value) => typeof value === 'string' && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value) },
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
export function trustedHeaderTenant(options?: TrustedHeaderTenantOptions): TenantResolver<HeaderSource> {
  const read = readOptions(options, RULES, (message) => new TenantScopeError('INVALID_CONFIG', `trustedHeaderTenant: ${message}`))
  const header = (read.header ?? 'x-tenant-id').toLowerCase()
  return (request) => {
    const value = readHeader(request, header)
    if (value === 'ambiguous') throw new TenantResolutionError('INVALID_TENANT_ID', `The ${header} header must appear once`)
    return value === undefined || value === '' ? undefined : value
  }
}
