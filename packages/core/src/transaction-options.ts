import { booleanOption, type OptionRules, readOptions } from './_options.js'
import { TenantScopeError } from './errors.js'

export interface TransactionOptions {
  isolationLevel?: 'read committed' | 'repeatable read' | 'serializable'
  /** `READ ONLY` when true. */
  readOnly?: boolean
  /** `DEFERRABLE`; only meaningful with serializable and readOnly. */
  deferrable?: boolean
}

const ISOLATION_LEVELS = new Set(['read committed', 'repeatable read', 'serializable'])

// A typo (`readonly: true`) must not silently give a read-write transaction.
const RULES: OptionRules<TransactionOptions> = {
  isolationLevel: {
    expected: 'read committed, repeatable read or serializable',
    check: (value) => typeof value === 'string' && ISOLATION_LEVELS.has(value),
  },
  readOnly: booleanOption,
  deferrable: booleanOption,
}

/** @internal The BEGIN statement, built only from known words. */
export function beginStatement(given?: TransactionOptions): string {
  // The common call, pool.transaction(fn): nothing to read.
  if (given === undefined) return 'BEGIN'
  const options = readOptions(given, RULES, (message) => new TenantScopeError('INVALID_CONFIG', `transaction: ${message}`))
  const parts = ['BEGIN']
  if (options.isolationLevel !== undefined) parts.push(`ISOLATION LEVEL ${options.isolationLevel.toUpperCase()}`)
  if (options.readOnly) parts.push('READ ONLY')
  if (options.deferrable) parts.push('DEFERRABLE')
  return parts.join(' ')
}
