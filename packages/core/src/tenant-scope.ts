import { getTenantContext } from './context.js'
import { TenantScopeError } from './errors.js'
import { isValidSettingName } from './settings.js'
import { setConfigSetter, type SettingEntry, type SetterStatement, type TenantSetter } from './setter.js'
import { parseTenantIdWith, uuidTenantId, type TenantIdParser } from './tenant-id.js'

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
}

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

  constructor(options: TenantScopeOptions = {}) {
    this.setting = options.setting ?? 'app.current_tenant'
    if (!isValidSettingName(this.setting)) {
      throw new TenantScopeError('INVALID_CONFIG', 'setting must be a dotted identifier such as app.current_tenant')
    }
    this.parseTenantId = options.parseTenantId ?? uuidTenantId
    this.setter = options.setter ?? setConfigSetter
  }

  /** The current context's tenant, parsed; throws before anything is sent. */
  currentTenantId(): string {
    return parseTenantIdWith(this.parseTenantId, getTenantContext().tenantId)
  }

  resolve(): ResolvedTenant {
    const context = getTenantContext()
    const tenantId = parseTenantIdWith(this.parseTenantId, context.tenantId)
    const entries: SettingEntry[] = [[this.setting, tenantId]]
    for (const name in context.settings) {
      if (name === this.setting) {
        throw new TenantScopeError('INVALID_SETTING', `${name} carries the tenant and cannot be set as an extra setting`)
      }
      entries.push([name, context.settings[name]!])
    }
    return { tenantId, setterStatement: this.setter(entries) }
  }
}
