import type { CitusQueryable } from './citus-queryable.js'
import { assertCitus } from './tenant-shard.js'

/** One finding of `tenantscope.citus_audit` (sql/0005_citus.sql). */
export interface CitusFinding {
  readonly object: string
  readonly problem: 'not_distributed' | 'distributed_by_other_column' | 'not_colocated' | 'reference_table_with_tenant_rows'
  readonly detail: string
}

/**
 * What keeps tenant tables from running well on Citus: tables left on the
 * coordinator, distributed by another column, outside the tenants'
 * colocation group, or reference tables holding tenant rows. None of these
 * leak rows (RLS still decides); they cost routing or local joins.
 * Needs migration 0005_citus.
 */
export async function auditCitus(db: CitusQueryable, options: { tenantColumn?: string } = {}): Promise<CitusFinding[]> {
  await assertCitus(db)
  const { rows } = await db.query<{ object_name: string; problem: CitusFinding['problem']; detail: string }>(
    'SELECT object_name, problem, detail FROM tenantscope.citus_audit($1)',
    [options.tenantColumn ?? 'tenant_id'],
  )
  return rows.map((row) => ({ object: row.object_name, problem: row.problem, detail: row.detail }))
}

/** One finding a line; a sentence when there is none. */
export function formatCitusFindings(findings: readonly CitusFinding[]): string {
  if (findings.length === 0) return 'no Citus findings: every tenant table is distributed by the tenant column and colocated\n'
  return findings.map((f) => `${f.problem}  ${f.object}: ${f.detail}\n`).join('')
}
