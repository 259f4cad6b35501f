/** @internal An identifier quoted only when PostgreSQL needs it (as pg_get_expr prints it). */
export function ident(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) && !RESERVED.has(name) ? name : `"${name.replaceAll('"', '""')}"`
}

/** @internal A string literal. */
export function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}

/** @internal */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

// The reserved words most likely to be used as column names; pg quotes them.
const RESERVED = new Set([
  'all',
  'and',
  'any',
  'as',
  'case',
  'check',
  'column',
  'default',
  'desc',
  'end',
  'from',
  'group',
  'order',
  'table',
  'to',
  'user',
  'when',
  'where',
  'with',
])
