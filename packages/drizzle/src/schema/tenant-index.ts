import { type IndexBuilder, index, type PgColumn } from 'drizzle-orm/pg-core'

/** A column or expression that `index(...).on()` takes. */
export type IndexColumn = Parameters<ReturnType<typeof index>['on']>[number]

/**
 * A tenant-first index: `(tenant_id, ...columns)`. The policy adds
 * `tenant_id = <current tenant>` to every statement; an index that starts
 * with the tenant column serves it. (A primary key `(tenant_id, id)` already
 * is one.)
 * @example (t) => [tenantIndex('projects_tenant_created_idx', t.tenantId, t.createdAt.desc())]
 */
export function tenantIndex(name: string, tenantColumn: PgColumn, ...columns: IndexColumn[]): IndexBuilder {
  return index(name).on(tenantColumn, ...columns)
}
