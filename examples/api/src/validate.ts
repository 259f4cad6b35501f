import { badRequest, notFound } from './http-errors.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A path id that is not a UUID cannot name any row: 404, like another tenant's id. */
export function pathId(value: unknown, what: string): string {
  if (typeof value !== 'string' || !UUID.test(value)) throw notFound(what)
  return value.toLowerCase()
}

export function optionalUuid(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string' || !UUID.test(value)) throw badRequest(`${field} must be a UUID`)
  return value.toLowerCase()
}

/** An ISO 4217 code such as `EUR`. */
export function currencyCode(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Z]{3}$/.test(value)) throw badRequest('currency must be a 3-letter ISO code')
  return value
}

export function requiredText(value: unknown, field: string, max = 200): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) {
    throw badRequest(`${field} must be a non-empty string of at most ${max} characters`)
  }
  return value.trim()
}

export interface Page {
  limit: number
  offset: number
}

/** `?limit=&offset=`: limit 1..100 (default 20), offset >= 0. */
export function page(query: Record<string, unknown>): Page {
  const limit = integer(query.limit, 'limit', 20)
  const offset = integer(query.offset, 'offset', 0)
  if (limit < 1 || limit > 100) throw badRequest('limit must be between 1 and 100')
  if (offset < 0 || offset > 1_000_000) throw badRequest('offset must be between 0 and 1000000')
  return { limit, offset }
}

function integer(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !/^\d{1,7}$/.test(value)) throw badRequest(`${field} must be a non-negative integer`)
  return Number(value)
}

/** The paginated response: items, and the offset of the next page or null. */
export function paged<T>(items: T[], { limit, offset }: Page): { items: T[]; limit: number; offset: number; nextOffset: number | null } {
  // One extra row was fetched to know whether there is a next page.
  const hasMore = items.length > limit
  return { items: items.slice(0, limit), limit, offset, nextOffset: hasMore ? offset + limit : null }
}
