import type pg from 'pg'

/** @internal The setting that carries the tenant into the plan's filters (a bind parameter, never SQL text). */
export const TENANT_SETTING = 'tenantscope.lifecycle_tenant'

/**
 * @internal Output settings fixed for the transaction, so that the same rows
 * give the same COPY bytes on any server: an archive's checksums can then be
 * verified after an import into another database.
 */
export async function useStableOutput(client: pg.ClientBase, tenantId: string): Promise<void> {
  await client.query(
    `SELECT set_config('DateStyle', 'ISO, YMD', true), set_config('TimeZone', 'UTC', true),
            set_config('IntervalStyle', 'postgres', true), set_config('extra_float_digits', '3', true),
            set_config('bytea_output', 'hex', true), set_config($1, $2, true)`,
    [TENANT_SETTING, tenantId],
  )
}
