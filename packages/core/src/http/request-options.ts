import { TenantScopeError } from '@tenantscope/core'
import { functionOption, type OptionRules, readOptions } from '../_options.js'
import type { TenantRequestOptions } from './resolve-request.js'

const RULES: OptionRules<TenantRequestOptions<unknown>> = { resolveTenant: functionOption, parseTenantId: functionOption }

/**
 * @internal The adapters' options, checked where they are given: a missing
 * resolver, a wrong type or an unknown key (a typo) throws INVALID_CONFIG
 * naming the option. Own properties only.
 */
export function readRequestOptions<Req>(where: string, options: unknown): TenantRequestOptions<Req> {
  const fail = (message: string) => new TenantScopeError('INVALID_CONFIG', `${where}: ${message}`)
  const read = readOptions(options, RULES, fail)
  if (read.resolveTenant === undefined) throw fail('option resolveTenant must be a function')
  return read as TenantRequestOptions<Req>
}
