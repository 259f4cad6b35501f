import type { TenantSettings } from '@tenantscope/core'

/**
 * What a resolver found for a request:
 * - a tenant id, or `{ tenantId, settings }` to also send e.g. the user id;
 * - `undefined`/`null` when the request carries no credentials (401).
 * Throw a `TenantResolutionError` for 401/403/400 with your own message.
 */
export type TenantResolution = string | { readonly tenantId: string; readonly settings?: TenantSettings } | null | undefined

/**
 * Finds the tenant of a request, from an authenticated principal: a verified
 * token or a session. Never from a header any caller can set (see
 * `trustedHeaderTenant`).
 * @example const resolveTenant: TenantResolver<Request> = (req) => req.session?.tenantId
 */
export type TenantResolver<Req> = (request: Req) => TenantResolution | Promise<TenantResolution>
