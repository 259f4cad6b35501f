import {
  bigintTenantId,
  citusSetter,
  getTenantId,
  getTenantSettings,
  type SetterStatement,
  type SettingEntry,
  setConfigSetter,
  setLocalSetter,
  type TenantIdParser,
  TenantScopeError,
  type TenantSetter,
  type TenantSettings,
  textTenantId,
  uuidTenantId,
} from '@tenantscope/core'
import type { Handler } from './_postgres-internals.js'
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
  /**
   * With tenantSocket(): the query handler of this tenant's statements (see
   * spliced-statement.ts), once made. Kept here, it is made once per tenant
   * rather than per statement.
   */
  spliced?: Handler
}

// Tenants whose resolved setter a binding keeps (see TenantBinding.#byTenant).
const MAX_CACHED_TENANTS = 10_000

/** @internal A wrapper's resolved options: what it sends for the current tenant. */
export class TenantBinding {
  readonly #setting: string
  readonly #parse: TenantIdParser
  readonly #setter: TenantSetter
  readonly #opening: ((id: string) => string | undefined) | undefined
  /**
   * Per tenant id, what it resolves to without extra settings, when that
   * depends on the id alone (a built-in parser and setter, as TenantPool
   * keeps them): the parse, the setter, the opening and the socket's token
   * are made once per tenant, not on every statement. Bounded.
   */
  readonly #byTenant: Map<string, ResolvedTenant> | undefined

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
    const pureParser = this.#parse === uuidTenantId || this.#parse === textTenantId || this.#parse === bigintTenantId
    const pureSetter = this.#setter === setConfigSetter || this.#setter === setLocalSetter || this.#setter === citusSetter
    this.#byTenant = pureParser && pureSetter ? new Map() : undefined
  }

  /**
   * The setter for the current tenant, its id parsed. Throws
   * TENANT_CONTEXT_MISSING outside withTenant and INVALID_TENANT_ID for an
   * id the parser refuses, before anything is sent.
   */
  resolve(): ResolvedTenant {
    const raw: unknown = getTenantId()
    if (typeof raw !== 'string') throw new TenantScopeError('INVALID_TENANT_ID', `Tenant id must be a string, got ${typeof raw}`)
    const settings = getTenantSettings()
    const byTenant = this.#byTenant !== undefined && hasNone(settings) ? this.#byTenant : undefined
    let resolved = byTenant?.get(raw)
    if (resolved === undefined) {
      resolved = this.#build(raw, settings)
      if (byTenant !== undefined) {
        if (byTenant.size >= MAX_CACHED_TENANTS) byTenant.clear()
        byTenant.set(raw, resolved)
      }
    }
    return resolved
  }

  #build(raw: string, settings: TenantSettings): ResolvedTenant {
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
    for (const [name, value] of Object.entries(settings)) {
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

// withTenant's settings without a key (own keys only, as Object.entries reads them).
function hasNone(settings: TenantSettings): boolean {
  for (const name in settings) if (Object.hasOwn(settings, name)) return false
  return true
}
