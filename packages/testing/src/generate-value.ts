import { randomBytes, randomInt, randomUUID } from 'node:crypto'
import type { Column } from './discover.js'

/** @internal A value for a column, as text PostgreSQL casts to the column's type; undefined when the kit cannot invent one. */
export function generateValue(column: Column): string | undefined {
  if (column.category === 'A') return '{}'
  if (column.enumLabels.length > 0) return column.enumLabels[0]
  switch (column.baseType) {
    case 'uuid':
      return randomUUID()
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'citext':
    case 'name':
      return text(column.maxLength)
    case 'int2':
      return String(randomInt(1, 32_000))
    case 'int4':
    case 'int8':
    case 'numeric':
    case 'float4':
    case 'float8':
    case 'money':
      return String(randomInt(1, 1_000_000))
    case 'bool':
      return 'true'
    case 'date':
      return new Date().toISOString().slice(0, 10)
    case 'timestamp':
    case 'timestamptz':
      return new Date().toISOString()
    case 'time':
    case 'timetz':
      return '12:00:00'
    case 'interval':
      return '1 day'
    case 'json':
    case 'jsonb':
      return '{}'
    case 'bytea':
      return `\\x${randomBytes(8).toString('hex')}`
    case 'inet':
    case 'cidr':
      return '192.0.2.1'
    case 'macaddr':
      return '08:00:2b:01:02:03'
    default:
      return undefined
  }
}

/** @internal A fresh tenant id of the tenant column's type. */
export function generateTenantId(column: Column): string {
  if (column.baseType === 'int2') return String(randomInt(20_000, 32_000))
  if (['int4', 'int8', 'numeric'].includes(column.baseType)) return String(randomInt(1_000_000_000, 2_000_000_000))
  if (column.baseType === 'uuid') return randomUUID()
  return text(column.maxLength)
}

// Random letters fit any CHECK on case or length better than a fixed word.
function text(maxLength: number | null): string {
  const value = `tenantscope-kit-${randomBytes(6).toString('hex')}`
  if (maxLength === null || maxLength >= value.length) return value
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
  return Array.from({ length: maxLength }, () => letters[randomInt(letters.length)]).join('')
}
