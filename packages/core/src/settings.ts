import { TenantScopeError } from './errors.js'

/** Extra transaction-local settings sent with the tenant, e.g. `{ 'app.user_id': userId }`. */
export type TenantSettings = Readonly<Record<string, string>>

// A setting name: identifiers joined by dots. Custom settings need a dot;
// built-in ones (role, search_path) are allowed too.
const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/
const MAX_SETTING_NAME = 127
const MAX_SETTING_VALUE = 8192

/** @internal Checks names and values once, when the context is entered. */
export function validateSettings(settings: unknown): TenantSettings {
  if (settings === undefined) return {}
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
    throw new TenantScopeError('INVALID_SETTING', 'settings must be an object of name → string value')
  }
  // PostgreSQL setting names are case-insensitive: two keys for one setting
  // would let the later one win silently.
  const seen = new Set<string>()
  for (const [name, value] of Object.entries(settings)) {
    if (!isValidSettingName(name)) {
      throw new TenantScopeError('INVALID_SETTING', 'Setting names must be dotted identifiers such as app.user_id')
    }
    if (seen.has(name.toLowerCase())) {
      throw new TenantScopeError('INVALID_SETTING', `Setting ${name} is given twice (names are case-insensitive)`)
    }
    seen.add(name.toLowerCase())
    if (typeof value !== 'string' || value.length > MAX_SETTING_VALUE || value.includes('\0')) {
      throw new TenantScopeError('INVALID_SETTING', `Setting ${name} must be a string without NUL bytes, at most ${MAX_SETTING_VALUE} characters`)
    }
  }
  return Object.freeze({ ...(settings as Record<string, string>) })
}

/** @internal */
export function isValidSettingName(name: string): boolean {
  return name.length <= MAX_SETTING_NAME && SETTING_NAME.test(name)
}
