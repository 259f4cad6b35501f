/** How bad a finding is. `error`: tenants can see or change each other's rows, or RLS is not in force. `warning`: works, but slow, fragile or failing closed. `info`: worth knowing. */
export type Severity = 'error' | 'warning' | 'info'

/** Stable codes: match on `finding.code`, never on the text. */
export type FindingCode =
  | 'no_tenant_tables'
  | 'rls_disabled'
  | 'rls_not_forced'
  | 'no_policy'
  | 'policy_missing_for_command'
  | 'policy_not_tenant_scoped'
  | 'policy_write_unchecked'
  | 'policy_unrecognized'
  | 'policy_implicit_with_check'
  | 'policy_casts_tenant_column'
  | 'policy_no_bare_tenant_column'
  | 'policy_setting_without_missing_ok'
  | 'policy_setting_without_nullif'
  | 'policy_bypass_setting'
  | 'no_tenant_first_index'
  | 'primary_key_without_tenant'
  | 'unique_without_tenant'
  | 'foreign_key_without_tenant'
  | 'view_without_security_invoker'
  | 'materialized_view_over_tenant_table'
  | 'view_exposes_materialized_view'
  | 'tenant_view_without_security_barrier'
  | 'security_definer_reads_tenant_table'
  | 'app_role_superuser'
  | 'app_role_bypassrls'
  | 'app_role_createrole'
  | 'app_role_owns_tenant_table'
  | 'app_role_can_truncate'
  | 'app_role_member_of_privileged_role'
  | 'app_role_no_privileges'
  | 'app_role_reaches_other_database'
  | 'partition_readable_directly'
  | 'sequence_shared_across_tenants'
  | 'large_objects_shared_across_tenants'
  | 'policy_function_per_row'
  | 'policy_non_leakproof_function'
  | 'security_definer_owner_bypasses_rls'

/** The kind of database object a finding is about. */
export type ObjectType = 'database' | 'table' | 'policy' | 'index' | 'constraint' | 'view' | 'function' | 'role' | 'sequence'

/** One problem the doctor found. Plain data: print it, filter it, or fail a test on it. */
export interface Finding {
  readonly code: FindingCode
  readonly severity: Severity
  readonly objectType: ObjectType
  /** The object, quoted as SQL would name it, e.g. `public.invoices` or `tenantscope_isolation ON public.invoices`. */
  readonly object: string
  /** The tenant table the finding concerns, when there is one (`schema.table`, quoted as needed). */
  readonly table?: string
  /** Why it matters, in one or two sentences. */
  readonly why: string
  /** SQL that fixes it (review before running), or undefined when the fix is a decision only you can make. */
  readonly fix?: string
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 }

/** True when `severity` is `threshold` or worse. */
export function isAtLeast(severity: Severity, threshold: Severity): boolean {
  return RANK[severity] >= RANK[threshold]
}

/** @internal Most severe first, then by object. */
export function compareFindings(a: Finding, b: Finding): number {
  return RANK[b.severity] - RANK[a.severity] || a.object.localeCompare(b.object) || a.code.localeCompare(b.code)
}

/** Every severity, most severe first. */
export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'info']
