import { createHash } from 'node:crypto'
import { tryGetTenantId } from './context.js'

/** The attribute tenantscope puts on spans (OpenTelemetry's conventions have none for tenants yet). */
export const TENANT_SPAN_ATTRIBUTE = 'tenantscope.tenant.id'

export interface TenantSpanHookOptions {
  /**
   * Send a digest instead of the id: `'sha256'` (the first 16 hex digits of
   * its SHA-256, stable across processes), or a function of your own (a
   * keyed HMAC when ids are guessable). Tenant ids may be personal data, and
   * a trace backend is rarely the place for them.
   * @default false: the id as it is
   */
  hash?: false | 'sha256' | ((tenantId: string) => string)
  /** @default 'tenantscope.tenant.id' */
  attribute?: string
}

/** The slice of an OpenTelemetry span the hook uses. */
export interface SpanLike {
  setAttribute(key: string, value: string): unknown
}

/**
 * A `requestHook` for `@opentelemetry/instrumentation-pg` that tags each
 * query's span with the current tenant. Opt-in, as tenant ids are
 * high-cardinality and may be personal data; OpenTelemetry stays an optional
 * dependency (the hook only calls `span.setAttribute`).
 * @example new PgInstrumentation({ requestHook: tenantSpanHook({ hash: 'sha256' }) })
 */
export function tenantSpanHook(options: TenantSpanHookOptions = {}): (span: SpanLike) => void {
  const attribute = options.attribute ?? TENANT_SPAN_ATTRIBUTE
  const hash = options.hash === 'sha256' ? sha256 : typeof options.hash === 'function' ? options.hash : undefined
  // Hashing costs a digest per query; the last id's is kept, as requests of one tenant come in runs.
  let lastId: string | undefined
  let lastValue = ''
  return (span) => {
    const tenantId = tryGetTenantId()
    if (tenantId === undefined) return
    if (hash === undefined) {
      span.setAttribute(attribute, tenantId)
      return
    }
    if (tenantId !== lastId) {
      lastValue = hash(tenantId)
      lastId = tenantId
    }
    span.setAttribute(attribute, lastValue)
  }
}

function sha256(tenantId: string): string {
  return createHash('sha256').update(tenantId).digest('hex').slice(0, 16)
}
