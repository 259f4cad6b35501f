import {
  getTenantId,
  getTenantSettings,
  type SetterStatement,
  type SettingEntry,
  setConfigSetter,
  type TenantIdParser,
  TenantScopeError,
  type TenantSetter,
  uuidTenantId,
} from '@tenantscope/core'
import { literalOpening } from './tenant-opening.js'

export interface TenantSqlOptions {
  /**
   * The setting that carries the tenant; policies read it back.
   * @default 'app.current_tenant'
   */
  setting?: string
  /**
   * Validates and normalises tenant ids before anything is sent.
   * @default uuidTenantId (canonical UUID, lower-cased)
   * @example createTenantSql(sql, { parseTenantId: textTenantId })
   */
  parseTenantId?: TenantIdParser
  /**
   * Builds the statement that applies the tenant transaction-locally.
   * @default setConfigSetter; use setLocalSetter on Citus
   */
  setter?: TenantSetter
}

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/
// PostgreSQL's NAMEDATALEN - 1 (the name is ASCII: characters are bytes).
const MAX_NAME_PART = 63

/** @internal What to send for the current tenant. */
export interface ResolvedTenant {
  /** The setter, the id a bind parameter (sql.begin, and statements without an opening). */
  readonly setter: SetterStatement
  /** `BEGIN; SET LOCAL ...` as one simple Query, when the default setter and the id allow it (see tenant-opening.ts). */
  readonly opening: string | undefined
}

/** @internal A wrapper's resolved options: what it sends for the current tenant. */
export class TenantBinding {
  readonly #setting: string
  readonly #parse: TenantIdParser
  readonly #setter: TenantSetter
  readonly #opening: ((id: string) => string | undefined) | undefined

  constructor(options: TenantSqlOptions = {}) {
    this.#setting = options.setting ?? 'app.current_tenant'
    if (typeof this.#setting !== 'string' || this.#setting.length > 127 || !SETTING_NAME.test(this.#setting)) {
      throw new TenantScopeError('INVALID_CONFIG', 'setting must be a dotted identifier such as app.current_tenant')
    }
    // PostgreSQL cuts each part of SET LOCAL's name to 63 bytes, set_config
    // does not: the opening and sql.begin would set two different settings.
    if (this.#setting.split('.').some((part) => part.length > MAX_NAME_PART)) {
      throw new TenantScopeError('INVALID_CONFIG', `setting: each dotted part must be at most ${MAX_NAME_PART} characters`)
    }
    this.#parse = options.parseTenantId ?? uuidTenantId
    this.#setter = options.setter ?? setConfigSetter
    this.#opening = this.#setter === setConfigSetter ? literalOpening(this.#setting) : undefined
  }

  /**
   * The setter for the current tenant, its id parsed. Throws
   * TENANT_CONTEXT_MISSING outside withTenant and INVALID_TENANT_ID for an
   * id the parser refuses, before anything is sent.
   */
  resolve(): ResolvedTenant {
    const raw: unknown = getTenantId()
    if (typeof raw !== 'string') throw new TenantScopeError('INVALID_TENANT_ID', `Tenant id must be a string, got ${typeof raw}`)
    let parsed: unknown
    try {
      parsed = this.#parse(raw)
    } catch {
      // No cause: a custom parser's message may repeat the id.
      throw new TenantScopeError('INVALID_TENANT_ID', 'Tenant id was rejected by parseTenantId')
    }
    if (typeof parsed !== 'string' || parsed.length === 0) {
      throw new TenantScopeError('INVALID_TENANT_ID', 'parseTenantId must return a non-empty string')
    }
    // withTenant's extra settings, as TenantPool sends them: in the same
    // setter, transaction-local. The literal opening carries the tenant only,
    // so with extras the setter (bind parameters) goes instead.
    const entries: SettingEntry[] = [[this.#setting, parsed]]
    for (const [name, value] of Object.entries(getTenantSettings())) {
      // Case-insensitive, as PostgreSQL compares setting names.
      if (name.toLowerCase() === this.#setting.toLowerCase()) {
        throw new TenantScopeError('INVALID_SETTING', `${name} carries the tenant and cannot be set as an extra setting`)
      }
      entries.push([name, value])
    }
    return {
      setter: this.#setter(entries),
      opening: entries.length === 1 ? this.#opening?.(parsed) : undefined,
    }
  }
}
