import { createHash } from 'node:crypto'
import { TenantScopeError } from './errors.js'
import type { SettingEntry } from './setter.js'

/**
 * Show which tenant a statement serves where a DBA looks: in
 * `pg_stat_activity.application_name`, set transaction-locally in the same
 * round trip as the tenant (see `TenantPoolOptions.activityTag`).
 */
export type ActivityTagOption = boolean | 'sha256' | ((tenantId: string) => string)

// PostgreSQL keeps 63 bytes of application_name (NAMEDATALEN - 1) and turns
// non-ASCII bytes into '?'.
const MAX_BYTES = 63
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/

/**
 * @internal Builds the application_name entry per tenant: the pool's own
 * application_name (if any), then `tenant:` and the id or its digest. The
 * value is cached per tenant id: one setter per context already is.
 */
export function activityTagger(option: ActivityTagOption, baseName: string | undefined): ((tenantId: string) => SettingEntry) | undefined {
  if (option === false) return undefined
  if (option !== true && option !== 'sha256' && typeof option !== 'function') {
    throw new TenantScopeError('INVALID_CONFIG', "activityTag must be true, 'sha256' or a function of the tenant id")
  }
  const show = option === 'sha256' ? sha256 : typeof option === 'function' ? option : (tenantId: string) => tenantId
  const prefix = baseName ? `${baseName} tenant:` : 'tenant:'
  return (tenantId) => {
    const shown = show(tenantId)
    if (typeof shown !== 'string' || !PRINTABLE_ASCII.test(shown)) {
      throw new TenantScopeError('INVALID_CONFIG', 'activityTag must give printable ASCII for every tenant')
    }
    return ['application_name', `${prefix}${shown}`.slice(0, MAX_BYTES)]
  }
}

function sha256(tenantId: string): string {
  return createHash('sha256').update(tenantId).digest('hex').slice(0, 16)
}

// What activityTagger writes: `[<application_name> ]tenant:<printable ASCII>`.
const TAG = /(?:^| )tenant:[\x21-\x7e]+$/

/** @internal True for an application_name that an activity tag set. */
export function isActivityTag(value: unknown): boolean {
  return typeof value === 'string' && TAG.test(value)
}
