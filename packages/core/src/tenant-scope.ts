import { booleanOption, functionOption, nonEmptyStringOption, type OptionRules, readOptions } from './_options.js'
import { citusSetter } from './citus-setter.js'
import { getTenantContext, type TenantContext } from './context.js'
import { TenantScopeError } from './errors.js'
import { PreparedSetters } from './prepared-setter.js'
import { type SetterStatement, type SettingEntry, setConfigSetter, setLocalSetter, type TenantSetter } from './setter.js'
import { isValidSettingName, isWithoutSettings } from './settings.js'
import { bigintTenantId, parseTenantIdWith, type TenantIdParser, textTenantId, uuidTenantId } from './tenant-id.js'

export interface TenantScopeOptions {
  /**
   * The setting that carries the tenant; policies read it back.
   * @default 'app.current_tenant'
   */
  setting?: string
  /**
   * Validates and normalises tenant ids before anything is sent.
   * @default uuidTenantId (canonical UUID, lower-cased)
   * @example createTenantPool(pool, { parseTenantId: textTenantId })
   */
  parseTenantId?: TenantIdParser
  /**
   * Builds the statement that applies the settings.
   * @default setConfigSetter; use setLocalSetter on Citus
   */
  setter?: TenantSetter
  /**
   * Send the setter as a named statement, parsed once per server connection
   * instead of on every query, on `pool.query` and on the BEGIN of
   * `pool.transaction` (statements on clients from `pool.connect()` keep the
   * unnamed setter). Parsing and planning the unnamed setter costs the server
   * more than binding a named one; on a fast network, where the server is
   * CPU-bound, that is a visible share of a point read (docs/benchmarks.md).
   *
   * Safe behind PgBouncer in transaction mode, also before 1.21: when a
   * pooler moves the connection and the statement is missing (26000) or
   * already there (42P05), the setter failed before the statement ran, so
   * tenantscope sends both again with the unnamed setter, in the same call.
   * When that keeps happening the pool stops naming the setter.
   * Set it to false for a pooler that pins a client to one server connection
   * once it prepares a statement. See docs/pgbouncer.md.
   * @default true
   * @example createTenantPool(pool, { prepareSetter: false })
   */
  prepareSetter?: boolean
  /**
   * Citus mode, for a Citus coordinator (docs/citus.md). Citus forwards the
   * tenant to the workers only as a `SET LOCAL` inside an explicit
   * transaction, so every statement outside a transaction runs as
   * `BEGIN; set the tenant; statement; COMMIT`, still in one round trip, and
   * the setter is `tenantscope.set_local` with
   * `citus.propagate_set_commands = 'local'` set alongside. A `setter` other
   * than this mode's is refused: mixing `set_config` and `SET LOCAL` on one
   * connection would leave the coordinator on one tenant and the workers on
   * another. The setter is a named statement on `pool.query` (see
   * `prepareSetter`), unnamed elsewhere in this mode.
   * @default false
   * @example createTenantPool(pool, { citus: true })
   */
  citus?: boolean
}

/**
 * @internal What each option must be; a key not listed here is refused
 * (INVALID_CONFIG), so that a typo such as `settting` fails at construction
 * instead of being ignored. A new option is added here.
 */
export const TENANT_SCOPE_OPTION_RULES: OptionRules<TenantScopeOptions> = {
  setting: nonEmptyStringOption,
  parseTenantId: functionOption,
  setter: functionOption,
  prepareSetter: booleanOption,
  citus: booleanOption,
}

const MAX_CACHED_TENANTS = 10_000

/** @internal The current tenant, checked, and the statement that applies it. */
export interface ResolvedTenant {
  readonly tenantId: string
  readonly setterStatement: SetterStatement
}

/** @internal A pool's resolved options. */
export class TenantScope {
  readonly setting: string
  readonly parseTenantId: TenantIdParser
  readonly setter: TenantSetter
  /** Per pool; null when `prepareSetter: false`. */
  readonly preparedSetters: PreparedSetters | null
  /** More settings per tenant, set by the pool (database limits, the activity tag). */
  readonly #extraSettings: ((tenantId: string) => readonly SettingEntry[]) | undefined
  /** Citus mode: statements outside a transaction are wrapped in BEGIN/COMMIT (see citus-scoped-query.ts). */
  readonly citus: boolean
  /**
   * Per tenant id, what a context without extra settings resolves to, when
   * that depends on the id alone: a built-in parser and setter (pure) and no
   * per-pool extra settings. Saves the parse and the setter's arrays on every
   * request (one withTenant each). Bounded, for apps with many tenants.
   */
  readonly #byTenant: Map<string, ResolvedTenant> | undefined
  /**
   * A built-in setter depends on its settings alone, so a context may keep
   * what it resolved to. Another setter may read live state (the router's
   * reads the tenant's directory entry, which a move changes in the middle
   * of a withTenant): it is called again for every statement.
   */
  readonly #pureSetter: boolean

  constructor(given?: TenantScopeOptions, extraSettings?: (tenantId: string) => readonly SettingEntry[]) {
    this.#extraSettings = extraSettings
    // Checked here, before any query: a wrong option would otherwise surface
    // later as a misleading INVALID_TENANT_ID or a TypeError on every query.
    const options = readOptions(
      given,
      TENANT_SCOPE_OPTION_RULES,
      (message) => new TenantScopeError('INVALID_CONFIG', `TenantPool: ${message}`),
    )
    this.setting = options.setting ?? 'app.current_tenant'
    if (!isValidSettingName(this.setting)) {
      throw new TenantScopeError('INVALID_CONFIG', 'setting must be a dotted identifier such as app.current_tenant')
    }
    this.parseTenantId = options.parseTenantId ?? uuidTenantId
    this.citus = options.citus === true
    if (this.citus && options.setter !== undefined && options.setter !== citusSetter) {
      throw new TenantScopeError(
        'INVALID_CONFIG',
        'citus: true brings its own setter (SET LOCAL, forwarded to the workers); a second one would mix set_config and SET LOCAL',
      )
    }
    this.setter = this.citus ? citusSetter : (options.setter ?? setConfigSetter)
    this.preparedSetters = options.prepareSetter === false ? null : new PreparedSetters()
    const pureParser = this.parseTenantId === uuidTenantId || this.parseTenantId === textTenantId || this.parseTenantId === bigintTenantId
    const pureSetter = this.setter === setConfigSetter || this.setter === setLocalSetter || this.setter === citusSetter
    this.#pureSetter = pureSetter
    this.#byTenant = pureParser && pureSetter && extraSettings === undefined ? new Map() : undefined
  }

  /** The current context's tenant, parsed, and its setter; throws before anything is sent. */
  resolve(): ResolvedTenant {
    return this.resolveContext(getTenantContext())
  }

  /**
   * @internal resolve() for a context read earlier: pool.transaction reads
   * it before the checkout and builds the setter once a connection is there,
   * as resolve() at that point would (a setter that reads live state is
   * called then, not before the wait for a connection).
   */
  resolveContext(context: TenantContext): ResolvedTenant {
    // A context is immutable: with a built-in setter, parse and build once,
    // however many statements it runs. One slot: a second pool over the same
    // context rebuilds.
    const cached = context.resolved
    if (cached?.by === this) return cached.value as ResolvedTenant
    const byTenant = this.#byTenant !== undefined && isWithoutSettings(context.settings) ? this.#byTenant : undefined
    let value = byTenant?.get(context.tenantId)
    if (value === undefined) {
      value = this.#build(context)
      if (byTenant !== undefined) {
        if (byTenant.size >= MAX_CACHED_TENANTS) byTenant.clear()
        byTenant.set(context.tenantId, value)
      }
    }
    if (this.#pureSetter) context.resolved = { by: this, value }
    return value
  }

  #build(context: TenantContext): ResolvedTenant {
    const tenantId = parseTenantIdWith(this.parseTenantId, context.tenantId)
    const entries: SettingEntry[] = [[this.setting, tenantId]]
    // Own keys only, the ones validateSettings checked (never a key
    // inherited from Object.prototype).
    for (const [name, value] of Object.entries(context.settings)) {
      // Case-insensitive, as PostgreSQL compares setting names.
      if (name.toLowerCase() === this.setting.toLowerCase()) {
        throw new TenantScopeError('INVALID_SETTING', `${name} carries the tenant and cannot be set as an extra setting`)
      }
      entries.push([name, value])
    }
    if (this.#extraSettings) entries.push(...this.#extraSettings(tenantId))
    return { tenantId, setterStatement: this.setter(entries) }
  }
}
