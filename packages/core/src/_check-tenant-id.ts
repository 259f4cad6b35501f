/**
 * The one place that runs a tenant id parser. Every wrapper (the pool, the
 * job helpers, the HTTP resolvers) calls this and turns a refusal into its
 * own error. The parser's own error is dropped, never kept as a `cause`: a
 * custom parser's message may well repeat the id.
 *
 * No imports: the subpath entries (http, jobs) bundle this file.
 */

/** @internal Why an id was refused; the reasons never contain the id. */
export type TenantIdCheck = { readonly ok: true; readonly tenantId: string } | { readonly ok: false; readonly reason: string }

/** @internal Validates `raw` with `parser`: the canonical id, or why it was refused. */
export function checkTenantId(parser: (raw: string) => string, raw: unknown): TenantIdCheck {
  if (typeof raw !== 'string') return { ok: false, reason: `Tenant id must be a string, got ${raw === null ? 'null' : typeof raw}` }
  let parsed: unknown
  try {
    parsed = parser(raw)
  } catch {
    return { ok: false, reason: 'Tenant id was rejected by parseTenantId' }
  }
  if (typeof parsed !== 'string' || parsed.length === 0) return { ok: false, reason: 'parseTenantId must return a non-empty string' }
  return { ok: true, tenantId: parsed }
}
