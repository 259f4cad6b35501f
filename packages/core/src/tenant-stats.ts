/** Statements and errors of one tenant (see `pool.stats()` with `stats: true`). */
export interface TenantStatementStats {
  /** Statements that completed, successfully or not. */
  statements: number
  /** Failed statements by SQLSTATE (`'57014'`), or by tenantscope code (`'TENANT_MISMATCH'`), or `'client'` for other errors. */
  errors: Record<string, number>
}

/** @internal Per-tenant statement counters: one map lookup per statement. */
export class TenantStats {
  readonly #tenants = new Map<string, TenantStatementStats>()

  record(tenantId: string, error: unknown): void {
    let stats = this.#tenants.get(tenantId)
    if (stats === undefined) this.#tenants.set(tenantId, (stats = { statements: 0, errors: {} }))
    stats.statements++
    if (error) {
      const code = (error as { code?: unknown }).code
      const key = typeof code === 'string' ? code : 'client'
      stats.errors[key] = (stats.errors[key] ?? 0) + 1
    }
  }

  snapshot(): Record<string, TenantStatementStats> {
    const copy: Record<string, TenantStatementStats> = {}
    for (const [tenantId, stats] of this.#tenants) copy[tenantId] = { statements: stats.statements, errors: { ...stats.errors } }
    return copy
  }
}
