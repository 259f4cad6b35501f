import type { DoctorQueryable } from './queryable.js'
import { SYSTEM_SCHEMAS } from './system-schemas.js'
import { VIEWS_OVER_TABLES } from './views-over-tables.js'

export interface ViewInfo {
  name: string
  kind: 'v' | 'm'
  owner: string
  ownerBypasses: boolean
  securityInvoker: boolean
  /** The tenant tables it reads, directly or through other views. */
  tableOids: number[]
  /** It has the tenant column itself (the test kit can check what it shows per tenant). */
  hasTenantColumn: boolean
  /** `role` may SELECT from it. */
  canSelect: boolean
}

/** Views and materialized views over the tables `oids`, and views over those views. */
export async function loadViews(db: DoctorQueryable, oids: string[], options: { tenantColumn: string; role: string }): Promise<ViewInfo[]> {
  if (oids.length === 0) return []
  const { rows } = await db.query(
    `${VIEWS_OVER_TABLES}
     SELECT format('%I.%I', n.nspname, v.relname) AS name, v.relkind AS kind, pg_get_userbyid(v.relowner) AS owner,
            (o.rolsuper OR o.rolbypassrls) AS owner_bypasses, coalesce(v.reloptions, '{}') AS options,
            EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = v.oid AND a.attname = $2 AND NOT a.attisdropped) AS has_tenant_column,
            has_table_privilege($3, v.oid, 'SELECT') AS can_select,
            array_agg(DISTINCT over.table_oid::int8::text) AS table_oids
       FROM over
       JOIN pg_class v ON v.oid = over.view_oid
       JOIN pg_namespace n ON n.oid = v.relnamespace
       JOIN pg_roles o ON o.oid = v.relowner
      WHERE v.relkind IN ('v', 'm') AND ${SYSTEM_SCHEMAS}
      GROUP BY v.oid, n.nspname, v.relname, v.relkind, v.relowner, o.rolsuper, o.rolbypassrls, v.reloptions
      ORDER BY 1`,
    [oids, options.tenantColumn, options.role],
  )
  return rows.map((row) => ({
    name: row.name,
    kind: row.kind,
    owner: row.owner,
    ownerBypasses: row.owner_bypasses,
    securityInvoker: (row.options as string[]).some((option) => /^security_invoker=(true|on|yes|1)$/i.test(option)),
    tableOids: (row.table_oids as string[]).map(Number),
    hasTenantColumn: row.has_tenant_column,
    canSelect: row.can_select,
  }))
}
