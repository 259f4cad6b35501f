import { keyColumnNames } from './key-columns.js'
import type { DoctorQueryable } from './queryable.js'

export interface Constraint {
  name: string
  /** Primary key, unique, foreign key, or a unique index made without a constraint. */
  type: 'p' | 'u' | 'f' | 'i'
  tableOid: number
  referencedOid: number | null
  /** The referenced table, `schema.table`, for foreign keys. */
  referencedTable: string | null
  columns: string[]
  attnums: number[]
  referencedColumns: string[]
  referencedAttnums: number[]
}

/** The keys of the tables `oids`: primary, unique (constraints and unique indexes) and foreign. */
export async function loadConstraints(db: DoctorQueryable, oids: string[]): Promise<Constraint[]> {
  if (oids.length === 0) return []
  const { rows } = await db.query(
    `SELECT con.conname::text AS name, con.contype::text AS type, con.conrelid::int8::text AS table_oid,
            nullif(con.confrelid, 0)::int8::text AS referenced_oid,
            (SELECT format('%I.%I', rn.nspname, rc.relname) FROM pg_class rc JOIN pg_namespace rn ON rn.oid = rc.relnamespace
              WHERE rc.oid = con.confrelid) AS referenced_table,
            con.conkey::int2[] AS attnums, coalesce(con.confkey::int2[], '{}') AS referenced_attnums,
            ${keyColumnNames('con')} AS columns,
            ${keyColumnNames('conf')} AS referenced_columns
       FROM pg_constraint con
      WHERE con.conrelid = ANY ($1::oid[]) AND con.contype IN ('p', 'u', 'f')
     UNION ALL
     -- Unique indexes made with CREATE UNIQUE INDEX rather than a constraint.
     SELECT ic.relname::text, 'i', i.indrelid::int8::text, NULL, NULL, i.indkey::int2[], '{}',
            ARRAY(SELECT coalesce(a.attname::text, '(expression)') FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                    LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord),
            '{}'
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
      WHERE i.indrelid = ANY ($1::oid[]) AND i.indisunique
        AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x'))
      ORDER BY 1`,
    [oids],
  )
  return rows.map((row) => ({
    name: row.name,
    type: row.type,
    tableOid: Number(row.table_oid),
    referencedOid: row.referenced_oid === null ? null : Number(row.referenced_oid),
    referencedTable: row.referenced_table,
    attnums: row.attnums.map(Number),
    referencedAttnums: row.referenced_attnums.map(Number),
    columns: row.columns,
    referencedColumns: row.referenced_columns,
  }))
}
