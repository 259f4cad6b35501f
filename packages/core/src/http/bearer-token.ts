import { type HeaderSource, readHeader } from './read-header.js'
import { TenantResolutionError } from './resolution-error.js'

/**
 * The token of an `Authorization: Bearer <token>` header, or `undefined`
 * when there is none. Any other Authorization scheme is refused (401).
 */
export function bearerToken(request: HeaderSource): string | undefined {
  const value = readHeader(request, 'authorization')
  if (value === undefined || value === '') return undefined
  if (value === 'ambiguous') throw new TenantResolutionError('UNAUTHENTICATED', 'Send one Authorization header')
  const match = /^Bearer[ ]+([A-Za-z0-9._~+/-]+=*)[ ]*$/i.exec(value)
  if (!match) throw new TenantResolutionError('UNAUTHENTICATED', 'Expected an Authorization: Bearer token')
  return match[1]
}
