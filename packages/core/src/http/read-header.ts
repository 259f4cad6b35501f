import { ownValue } from '../_options.js'

/**
 * Request shapes the built-in resolvers read headers from: Node's
 * IncomingMessage (Express, Fastify, Koa's req), a Fetch `Request`, and a
 * Hono context.
 */
export type HeaderSource =
  | { readonly headers: Readonly<Record<string, string | readonly string[] | undefined>> }
  | { readonly headers: { get(name: string): string | null } }
  | { readonly req: { header(name: string): string | undefined } }

/** @internal One header value; repeated headers are refused (ambiguous). */
export function readHeader(source: HeaderSource, name: string): string | undefined | 'ambiguous' {
  const lower = name.toLowerCase()
  if ('req' in source && typeof source.req?.header === 'function') {
    return source.req.header(lower) ?? undefined
  }
  const headers = (source as { headers?: unknown }).headers
  if (headers && typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(lower) ?? undefined
  }
  // An own header only: one inherited from a polluted Object.prototype was never sent.
  const own = headers !== null && typeof headers === 'object' ? ownValue(headers, lower) : undefined
  const value = own as string | readonly string[] | undefined
  if (Array.isArray(value)) return value.length === 1 ? (value[0] as string) : 'ambiguous'
  return value as string | undefined
}
