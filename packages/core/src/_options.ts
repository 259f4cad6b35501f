/**
 * Reading the options objects and payloads that users hand to tenantscope.
 *
 * Only own properties count: a key that some dependency set on
 * `Object.prototype` (prototype pollution) must never become a tenant, a
 * setting or an option. And an options object is checked where it is given,
 * not on the first query: a typo (`settting`) or a wrong type
 * (`parseTenantId: 'uuid'`) is refused at once with a message that names the
 * option. Messages never repeat a value, which may be a secret.
 *
 * No imports: the subpath entries (http, jobs) bundle this file, and each
 * caller throws its own error class.
 */

/** @internal A property of `object` itself, never one inherited from a prototype. */
export function ownValue(object: object, key: string): unknown {
  return Object.hasOwn(object, key) ? (object as Record<string, unknown>)[key] : undefined
}

/** @internal True for an object that is neither null nor an array. */
export function isRecord(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** @internal What one option must be. */
export interface OptionRule {
  /** Said in the message, e.g. 'a function'. */
  readonly expected: string
  readonly check: (value: unknown) => boolean
}

/** @internal */
export const functionOption: OptionRule = { expected: 'a function', check: (value) => typeof value === 'function' }
/** @internal */
export const booleanOption: OptionRule = { expected: 'true or false', check: (value) => typeof value === 'boolean' }
/** @internal */
export const nonEmptyStringOption: OptionRule = {
  expected: 'a non-empty string',
  check: (value) => typeof value === 'string' && value.length > 0,
}
/** @internal Anything: checked by the caller (e.g. settings, validated on their own). */
export const anyOption: OptionRule = { expected: 'anything', check: () => true }

/** @internal Rules for every option a function takes; a key not listed is refused. */
export type OptionRules<T> = { readonly [K in keyof T]-?: OptionRule }

/**
 * @internal Checks an options object against its rules and returns a copy
 * with only its own, known, defined properties (null prototype, so later
 * reads cannot fall through to Object.prototype). `undefined` (the whole
 * object or one option) means "not given". `fail` builds the caller's error
 * from a message that names the option and never its value.
 */
export function readOptions<T>(value: unknown, rules: OptionRules<T>, fail: (message: string) => Error): Partial<T> {
  const copy = Object.create(null) as Record<string, unknown>
  if (value === undefined) return copy as Partial<T>
  if (!isRecord(value)) throw fail('options must be an object')
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(rules, key)) throw fail(`unknown option ${JSON.stringify(key.slice(0, 64))}`)
  }
  for (const key of Object.keys(rules)) {
    const option = ownValue(value, key)
    if (option === undefined) continue
    const rule = (rules as Record<string, OptionRule>)[key]!
    if (!rule.check(option)) throw fail(`option ${key} must be ${rule.expected}`)
    copy[key] = option
  }
  return copy as Partial<T>
}
