/**
 * The column names of a constraint's `conkey` (`side` 'con') or `confkey`
 * ('conf') as a text[], in key order: `con` must be the pg_constraint alias.
 */
export function keyColumnNames(side: 'con' | 'conf'): string {
  const relation = side === 'con' ? 'con.conrelid' : 'con.confrelid'
  return `ARRAY(SELECT a.attname::text FROM unnest(con.${side}key) WITH ORDINALITY AS k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = ${relation} AND a.attnum = k.attnum ORDER BY k.ord)`
}
