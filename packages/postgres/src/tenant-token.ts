import { type SpliceSetter, TOKEN_PREFIX } from './wire-splice.js'

/**
 * @internal How a scoped statement tells `tenantSocket()` its setter: in its
 * own Bind message, as the portal name (which postgres.js fills from
 * `query.cursorName`, unused otherwise in 3.4). The setter then travels with
 * the statement's bytes, on whatever connection postgres.js picks: no
 * lookup can pair a statement with another's tenant.
 *
 * The token names the setter's text by its number in a registry (shared by
 * every copy of this package in the process), never the text itself: a
 * portal name is never SQL to run. Values are a JSON array of strings.
 */
interface Registry {
  readonly numbers: Map<string, number>
  readonly texts: string[]
}

const registry: Registry = ((globalThis as Record<symbol, unknown>)[Symbol.for('tenantscope:postgres:setters')] ??= {
  numbers: new Map<string, number>(),
  texts: [],
}) as Registry

/** The portal name that carries `setter`. */
export function encodeToken(setter: Omit<SpliceSetter, 'id'>): string {
  let number = registry.numbers.get(setter.text)
  if (number === undefined) {
    number = registry.texts.push(setter.text) - 1
    registry.numbers.set(setter.text, number)
  }
  return `${TOKEN_PREFIX}${number}:${JSON.stringify(setter.values)}`
}

/** The setter a token (the portal name after the prefix) carries; undefined for anything else. */
export function decodeToken(token: string): SpliceSetter | undefined {
  const colon = token.indexOf(':')
  if (colon < 1) return undefined
  const id = Number(token.slice(0, colon))
  const text = registry.texts[id]
  if (text === undefined) return undefined
  let values: unknown
  try {
    values = JSON.parse(token.slice(colon + 1))
  } catch {
    return undefined
  }
  if (!Array.isArray(values) || !values.every((value) => typeof value === 'string')) return undefined
  return { id, text, values }
}
