import { type TenantIdParser, TenantScopeError } from '@tenantscope/core'
import { functionOption, nonEmptyStringOption, type OptionRules, readOptions } from '../_options.js'

export interface JobTenantOptions {
  /**
   * The payload property that carries the tenant.
   * @default 'tenantId'
   */
  key?: string
  /**
   * Validates the id when enqueuing and again when processing; use the same
   * parser as your TenantPool.
   * @default uuidTenantId
   */
  parseTenantId?: TenantIdParser
}

/** @internal */
export const DEFAULT_KEY = 'tenantId'

const RULES: OptionRules<JobTenantOptions> = { key: nonEmptyStringOption, parseTenantId: functionOption }

/** @internal The options, checked (INVALID_CONFIG names a typo or a wrong type), own properties only. */
export function readJobOptions(where: string, options: unknown): JobTenantOptions {
  return readOptions(options, RULES, (message) => new TenantScopeError('INVALID_CONFIG', `${where}: ${message}`))
}
