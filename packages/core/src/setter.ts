/** One setting to apply for the current transaction: `[name, value]`. */
export type SettingEntry = readonly [name: string, value: string]

/** A statement whose values are all bind parameters. */
export interface SetterStatement {
  readonly text: string
  readonly values: readonly string[]
}

/**
 * Builds the statement that applies the tenant (and any extra settings)
 * transaction-locally. It runs first in the same pipeline as the user's
 * statement. Values must stay bind parameters.
 */
export type TenantSetter = (settings: readonly SettingEntry[]) => SetterStatement

function cachedByCount(build: (count: number) => string): (count: number) => string {
  const cache = new Map<number, string>()
  return (count) => {
    let text = cache.get(count)
    if (text === undefined) cache.set(count, (text = build(count)))
    return text
  }
}

function flatten(settings: readonly SettingEntry[]): string[] {
  const values: string[] = []
  for (const [name, value] of settings) values.push(name, value)
  return values
}

function callsFor(fn: string, extra: string) {
  return cachedByCount((count) => {
    const calls: string[] = []
    for (let i = 0; i < count; i++) calls.push(`${fn}($${2 * i + 1}, $${2 * i + 2}${extra})`)
    return `SELECT ${calls.join(', ')}`
  })
}

const setConfigText = callsFor('set_config', ', true')

/**
 * The default: `SELECT set_config($1, $2, true)`. Transaction-local, so
 * nothing survives the transaction; safe behind PgBouncer in transaction mode.
 */
export const setConfigSetter: TenantSetter = (settings) => ({
  text: setConfigText(settings.length),
  values: flatten(settings),
})

const setLocalText = callsFor('tenantscope.set_local', '')

/**
 * For Citus: `SELECT tenantscope.set_local($1, $2)` (shipped in
 * @tenantscope/sql), a `SET LOCAL` that Citus propagates to worker nodes
 * with `citus.propagate_set_commands = 'local'`, where `set_config` is not.
 */
export const setLocalSetter: TenantSetter = (settings) => ({
  text: setLocalText(settings.length),
  values: flatten(settings),
})
