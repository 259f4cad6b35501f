import { anyOption, isRecord, ownValue, readOptions } from './_options.js'
import { TenantScopeError } from './errors.js'

/** Extra transaction-local settings sent with the tenant, e.g. `{ 'app.user_id': userId }`. */
export type TenantSettings = Readonly<Record<string, string>>

// A setting name: identifiers joined by dots. Custom settings need a dot;
// built-in ones (role, search_path) are allowed too.
const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/
const MAX_SETTING_NAME = 127
const MAX_SETTING_VALUE = 8192

const NO_SETTINGS: TenantSettings = Object.freeze(Object.create(null) as Record<string, string>)

/** @internal withTenant was given no settings (the common case). */
export function isWithoutSettings(settings: TenantSettings): boolean {
  return settings === NO_SETTINGS
}

/**
 * @internal The settings of `withTenant`'s options, checked once when the
 * context is entered. Unknown options are refused (INVALID_CONFIG); only
 * own properties count, of the options and of the settings.
 */
export function readWithTenantSettings(options: unknown): TenantSettings {
  if (options === undefined) return NO_SETTINGS // the common case, on every request: no allocation
  const read = readOptions<{ settings: unknown }>(
    options,
    { settings: anyOption },
    (message) => new TenantScopeError('INVALID_CONFIG', `withTenant: ${message}`),
  )
  return validateSettings(read.settings)
}

/**
 * @internal Checks names and values. Returns a frozen copy of the own keys
 * only, with no prototype: whoever iterates it can never meet a key that
 * was set on Object.prototype, which was never validated.
 */
export function validateSettings(settings: unknown): TenantSettings {
  if (settings === undefined) return NO_SETTINGS
  if (!isRecord(settings)) {
    throw new TenantScopeError('INVALID_SETTING', 'settings must be an object of name → string value')
  }
  // PostgreSQL setting names are case-insensitive: two keys for one setting
  // would let the later one win silently.
  const seen = new Set<string>()
  const copy = Object.create(null) as Record<string, string>
  for (const name of Object.keys(settings)) {
    const value = ownValue(settings, name)
    if (!isValidSettingName(name)) {
      throw new TenantScopeError('INVALID_SETTING', 'Setting names must be dotted identifiers such as app.user_id')
    }
    if (seen.has(name.toLowerCase())) {
      throw new TenantScopeError('INVALID_SETTING', `Setting ${name} is given twice (names are case-insensitive)`)
    }
    seen.add(name.toLowerCase())
    if (typeof value !== 'string' || value.length > MAX_SETTING_VALUE || value.includes('\0')) {
      throw new TenantScopeError(
        'INVALID_SETTING',
        `Setting ${name} must be a string without NUL bytes, at most ${MAX_SETTING_VALUE} characters`,
      )
    }
    copy[name] = value
  }
  return Object.freeze(copy)
}

/** @internal */
export function isValidSettingName(name: string): boolean {
  return name.length <= MAX_SETTING_NAME && SETTING_NAME.test(name)
}
