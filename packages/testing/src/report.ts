import type { Finding } from '@tenantscope/doctor'

/** What each check proves; a failure names the one that broke. */
export type IsolationCheck =
  /** The kit could not write the test rows (see the reason; a factory usually fixes it). */
  | 'setup'
  /** Tenant A cannot read its own row: the policy denies everything, so the other checks would prove nothing. */
  | 'own_row_invisible'
  /** Tenant A sees rows of another tenant. */
  | 'cross_tenant_read'
  /** Tenant A updated tenant B's row. */
  | 'cross_tenant_update'
  /** Tenant A deleted tenant B's row. */
  | 'cross_tenant_delete'
  /** Tenant A emptied the table, every tenant's rows, with TRUNCATE (row level security does not apply to it). */
  | 'cross_tenant_truncate'
  /** Tenant A inserted a row carrying tenant B's id. */
  | 'cross_tenant_insert'
  /** Tenant A moved its own row to tenant B. */
  | 'cross_tenant_move'
  /** Without a tenant, a query saw rows (or failed instead of seeing none). */
  | 'no_context_read'
  /** Without a tenant, a row could be written. */
  | 'no_context_write'
  /** A view over a tenant table shows another tenant's rows, or rows without a tenant. */
  | 'view_cross_tenant_read'
  /** A doctor finding at or above the `catalog` severity. */
  | 'catalog'

export interface IsolationFailure {
  /** The table (or view, or role) that failed, `schema.table`. */
  readonly table: string
  readonly check: IsolationCheck
  readonly reason: string
  /** For `catalog` failures: the doctor's finding, with its fix. */
  readonly finding?: Finding
}

export interface TenantIsolationReport {
  /** True when nothing failed. */
  readonly ok: boolean
  /** The role the checks ran as. */
  readonly role: string
  /** The tenant tables that were checked. */
  readonly tables: readonly string[]
  /** The views over them that were checked. */
  readonly views: readonly string[]
  readonly failures: readonly IsolationFailure[]
}

/** @internal The error message: one line per failure, grouped by table. */
export function describeFailures(report: TenantIsolationReport): string {
  const lines = [
    `Tenant isolation failed for role ${report.role}: ${report.failures.length} problem${report.failures.length === 1 ? '' : 's'}`,
  ]
  for (const failure of report.failures) {
    lines.push(`  ${failure.table} [${failure.check}${failure.finding ? `: ${failure.finding.code}` : ''}] ${failure.reason}`)
  }
  return lines.join('\n')
}
