/**
 * The schemas the doctor and the test kit never look into, as a condition on
 * `n` (pg_namespace): the system's own, and tenantscope's (its helpers and
 * audit are not tenant data).
 */
export const SYSTEM_SCHEMAS = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'tenantscope') AND n.nspname !~ '^pg_(toast|temp_)'`
