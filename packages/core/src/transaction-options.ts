import { TenantScopeError } from './errors.js'

export interface TransactionOptions {
  isolationLevel?: 'read committed' | 'repeatable read' | 'serializable'
  /** `READ ONLY` when true. */
  readOnly?: boolean
  /** `DEFERRABLE`; only meaningful with serializable and readOnly. */
  deferrable?: boolean
}

const ISOLATION_LEVELS = new Set(['read committed', 'repeatable read', 'serializable'])

/** @internal The BEGIN statement, built only from known words. */
export function beginStatement(options: TransactionOptions = {}): string {
  const parts = ['BEGIN']
  if (options.isolationLevel !== undefined) {
    if (!ISOLATION_LEVELS.has(options.isolationLevel)) {
      throw new TenantScopeError('INVALID_CONFIG', 'isolationLevel must be read committed, repeatable read or serializable')
    }
    parts.push(`ISOLATION LEVEL ${options.isolationLevel.toUpperCase()}`)
  }
  if (options.readOnly) parts.push('READ ONLY')
  if (options.deferrable) parts.push('DEFERRABLE')
  return parts.join(' ')
}
