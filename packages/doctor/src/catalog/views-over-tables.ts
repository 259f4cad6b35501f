/**
 * @internal A recursive CTE `over (view_oid, table_oid)`: the views that read
 * the tables whose oids are `$1` (oid[]), and the views over those views.
 * Shared by the doctor and @tenantscope/testing.
 */
export const VIEWS_OVER_TABLES = `WITH RECURSIVE over (view_oid, table_oid) AS (
       SELECT r.ev_class, d.refobjid
         FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
        WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
          AND d.refobjid = ANY ($1::oid[]) AND r.ev_class <> d.refobjid
       UNION
       SELECT r.ev_class, over.table_oid
         FROM over
         JOIN pg_depend d ON d.refobjid = over.view_oid AND d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
         JOIN pg_rewrite r ON r.oid = d.objid
        WHERE r.ev_class <> over.view_oid
     )`
