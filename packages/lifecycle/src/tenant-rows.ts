import type pg from 'pg'
import { TENANT_SETTING } from './session-settings.js'
import { type PlanOptions, planTenant } from './tenant-plan.js'

/** @internal The tenant's rows per table (parents first) of a place, in one transaction; as a role that bypasses row level security. */
export async function tenantRowCounts(client: pg.ClientBase, tenantId: string, plan: PlanOptions): Promise<Map<string, number>> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
  try {
    await client.query('SELECT set_config($1, $2, true)', [TENANT_SETTING, tenantId])
    const { tables } = await planTenant(client, plan)
    const counts = new Map<string, number>()
    for (const table of tables) {
      const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table.name} t WHERE ${table.filter}`)
      counts.set(table.name, rows[0]!.n)
    }
    await client.query('COMMIT')
    return counts
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  }
}
