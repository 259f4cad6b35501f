import { createPublicKey, createSecretKey, type KeyObject, type webcrypto } from 'node:crypto'
import { type TenantIdParser, TenantScopeError, type TenantSettings, uuidTenantId } from '@tenantscope/core'
import { checkTenantId } from '../_check-tenant-id.js'
import { functionOption, isRecord, nonEmptyStringOption, type OptionRule, type OptionRules, ownValue, readOptions } from '../_options.js'
import { bearerToken } from './bearer-token.js'
import type { HeaderSource } from './read-header.js'
import { TenantResolutionError } from './resolution-error.js'
import type { TenantResolution, TenantResolver } from './tenant-resolver.js'

/** A verified token's claims. */
export type JwtClaims = Readonly<Record<string, unknown>>

/** A key getter such as jose's `createRemoteJWKSet(url)`. */
export type JwtKeyGetter = (protectedHeader: any, token: any) => Promise<unknown>

export interface JwtTenantOptions<Req> {
  /** Shared secret for HS256/HS384/HS512. */
  secret?: string | Uint8Array
  /** Public key (PEM text, a KeyObject or a CryptoKey) for RS256, PS256, ES256, EdDSA... */
  publicKey?: string | KeyObject | webcrypto.CryptoKey
  /** A key set, e.g. `createRemoteJWKSet(new URL('https://issuer/.well-known/jwks.json'))` from jose. */
  keys?: JwtKeyGetter
  /**
   * Accepted algorithms. Always pin them: never let the token pick.
   * @default ['HS256'] with `secret`, ['RS256'] otherwise
   */
  algorithms?: string[]
  /** Required `iss`. */
  issuer?: string | string[]
  /** Required `aud`. */
  audience?: string | string[]
  /** Seconds of clock skew accepted for `exp`/`nbf`. @default 0 */
  clockTolerance?: number
  /**
   * The claim holding the principal's tenant.
   * @default 'tenant_id'
   */
  tenantClaim?: string
  /**
   * A claim listing every tenant the principal may act for (users in several
   * organisations). With it, `requestedTenant` picks one of them.
   * @example tenantsClaim: 'tenants'
   */
  tenantsClaim?: string
  /**
   * The tenant this request asks for (a path parameter, an `x-tenant-id`
   * header). Only honoured when the token grants that tenant: otherwise 403.
   * @example requestedTenant: (req) => req.headers['x-tenant-id'] as string | undefined
   */
  requestedTenant?: (request: Req) => string | undefined
  /** Where the token is. @default the `Authorization: Bearer` header */
  token?: (request: Req) => string | undefined
  /**
   * More transaction-local settings from the claims, for policies that look
   * at the user too.
   * @example settings: (claims) => ({ 'app.user_id': String(claims.sub) })
   */
  settings?: (claims: JwtClaims) => TenantSettings | undefined
  /** Normalises ids before comparing them. @default uuidTenantId */
  parseTenantId?: TenantIdParser
}

type Jose = { jwtVerify: (token: string, key: any, options: Record<string, unknown>) => Promise<{ payload: Record<string, unknown> }> }
let josePromise: Promise<Jose> | undefined

// Loaded on first use: jose is an optional peer, and jose 6 is ESM-only
// (a dynamic import works from the CommonJS build too).
function loadJose(): Promise<Jose> {
  josePromise ??= import('jose').then(
    (module) => module as unknown as Jose,
    (cause: unknown) => {
      josePromise = undefined
      throw new Error('jwtTenant needs the `jose` package: npm install jose', { cause })
    },
  )
  return josePromise
}

/**
 * Resolves the tenant from a verified JWT (signature, `exp`/`nbf`, and the
 * `iss`/`aud` you pin), via the `jose` library. No token → 401; a token that
 * does not verify → 401; a tenant the token does not grant → 403; a
 * malformed tenant id → 400.
 * @example
 * app.use(tenantMiddleware({ resolveTenant: jwtTenant({ secret: process.env.JWT_SECRET!, issuer: 'https://auth.example.com' }) }))
 */
const stringOrStrings: OptionRule = {
  expected: 'a string or an array of strings',
  check: (value) => typeof value === 'string' || (Array.isArray(value) && value.every((each) => typeof each === 'string')),
}

// Named, never printed: a secret's value must not reach a message.
const JWT_RULES: OptionRules<JwtTenantOptions<unknown>> = {
  secret: { expected: 'a string or a Uint8Array', check: (value) => typeof value === 'string' || value instanceof Uint8Array },
  publicKey: { expected: 'PEM text, a KeyObject or a CryptoKey', check: (value) => typeof value === 'string' || isRecord(value) },
  keys: functionOption,
  algorithms: {
    expected: 'a non-empty array of algorithm names',
    check: (value) => Array.isArray(value) && value.length > 0 && value.every((each) => typeof each === 'string' && each !== ''),
  },
  issuer: stringOrStrings,
  audience: stringOrStrings,
  clockTolerance: {
    expected: 'a number of seconds (at least 0) or a jose time span',
    check: (value) => (typeof value === 'number' && value >= 0 && Number.isFinite(value)) || typeof value === 'string',
  },
  tenantClaim: nonEmptyStringOption,
  tenantsClaim: nonEmptyStringOption,
  requestedTenant: functionOption,
  token: functionOption,
  settings: functionOption,
  parseTenantId: functionOption,
}

export function jwtTenant<Req extends HeaderSource = HeaderSource>(given: JwtTenantOptions<Req>): TenantResolver<Req> {
  const fail = (message: string) => new TenantScopeError('INVALID_CONFIG', `jwtTenant: ${message}`)
  const options = readOptions(given, JWT_RULES, fail) as JwtTenantOptions<Req>
  const key = verificationKey(options)
  const algorithms = options.algorithms ?? (options.secret !== undefined ? ['HS256'] : ['RS256'])
  const verifyOptions: Record<string, unknown> = { algorithms }
  if (options.issuer !== undefined) verifyOptions.issuer = options.issuer
  if (options.audience !== undefined) verifyOptions.audience = options.audience
  if (options.clockTolerance !== undefined) verifyOptions.clockTolerance = options.clockTolerance
  const tenantClaim = options.tenantClaim ?? 'tenant_id'
  const parse = options.parseTenantId ?? uuidTenantId
  const getToken = options.token ?? ((request: Req) => bearerToken(request))

  return async (request): Promise<TenantResolution> => {
    const token = getToken(request)
    if (token === undefined || token === '') return undefined
    const jose = await loadJose()
    let claims: Record<string, unknown>
    try {
      claims = (await jose.jwtVerify(token, key, verifyOptions)).payload
    } catch (cause) {
      throw new TenantResolutionError('UNAUTHENTICATED', 'The token is invalid or expired', { cause })
    }
    const granted = grantedTenants(claims, tenantClaim, options.tenantsClaim, parse)
    const requested = options.requestedTenant?.(request)
    let tenantId: string
    if (requested !== undefined && requested !== '') {
      tenantId = parseOr400(parse, requested)
      if (!granted.includes(tenantId)) {
        throw new TenantResolutionError('TENANT_FORBIDDEN', 'The token does not grant access to this tenant')
      }
    } else {
      const own = ownValue(claims, tenantClaim)
      if (typeof own === 'string' && own !== '') tenantId = parseOr400(parse, own)
      else if (granted.length === 1) tenantId = granted[0]!
      else throw new TenantResolutionError('TENANT_FORBIDDEN', 'The token grants no tenant for this request')
    }
    const settings = options.settings?.(Object.freeze({ ...claims }))
    return settings ? { tenantId, settings } : tenantId
  }
}

function grantedTenants(
  claims: Record<string, unknown>,
  tenantClaim: string,
  tenantsClaim: string | undefined,
  parse: TenantIdParser,
): string[] {
  const raw: unknown[] = []
  // Own claims only: a claim inherited from a polluted Object.prototype grants nothing.
  const own = ownValue(claims, tenantClaim)
  if (typeof own === 'string') raw.push(own)
  const list = tenantsClaim === undefined ? undefined : ownValue(claims, tenantsClaim)
  if (Array.isArray(list)) raw.push(...list)
  const granted: string[] = []
  for (const value of raw) {
    const checked = checkTenantId(parse, value)
    if (checked.ok) granted.push(checked.tenantId) // a malformed grant grants nothing
  }
  return granted
}

function parseOr400(parse: TenantIdParser, raw: string): string {
  const checked = checkTenantId(parse, raw)
  if (!checked.ok) throw new TenantResolutionError('INVALID_TENANT_ID', 'The tenant id is not valid')
  return checked.tenantId
}

function verificationKey(options: JwtTenantOptions<never>): unknown {
  const given = [options.secret, options.publicKey, options.keys].filter((value) => value !== undefined)
  if (given.length !== 1) throw new TenantScopeError('INVALID_CONFIG', 'jwtTenant: pass exactly one of secret, publicKey or keys')
  if (options.secret !== undefined) {
    const bytes = typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : options.secret
    // RFC 7518 §3.2: an HS256 key must be at least as long as the hash.
    if (bytes.length < 32) throw new TenantScopeError('INVALID_CONFIG', 'jwtTenant: the secret must be at least 32 bytes')
    return createSecretKey(bytes)
  }
  if (typeof options.publicKey === 'string') return createPublicKey(options.publicKey)
  return options.publicKey ?? options.keys
}
