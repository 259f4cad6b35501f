import type { TenantIdParser } from '@tenantscope/core'

export interface JobTenantOptions {
  /**
   * The payload property that carries the tenant.
   * @default 'tenantId'
   */
  key?: string
  /**
   * Validates the id when enqueuing and again when processing; use the same
   * parser as your TenantPool.
   * @default uuidTenantId
   */
  parseTenantId?: TenantIdParser
}

/** @internal */
export const DEFAULT_KEY = 'tenantId'
