import type { KitClient } from './options.js'

/** @internal */
export type Attempt = { ok: true; rowCount: number; rows: any[] } | { ok: false; error: { message: string; code?: string } }

/**
 * @internal Runs one statement inside a savepoint and always rolls it back:
 * a refused write must not abort the surrounding transaction, and an
 * allowed one (a leak) must not change what the next check sees.
 */
export async function attempt(client: KitClient, text: string, values: unknown[] = [], keep = false): Promise<Attempt> {
  await client.query('SAVEPOINT tenantscope_kit')
  try {
    const result = await client.query(text, values)
    await client.query(keep ? 'RELEASE SAVEPOINT tenantscope_kit' : 'ROLLBACK TO SAVEPOINT tenantscope_kit')
    return { ok: true, rowCount: result.rowCount ?? 0, rows: result.rows }
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT tenantscope_kit')
    const { message, code } = error as { message?: string; code?: string }
    return { ok: false, error: { message: String(message ?? error), ...(code ? { code } : {}) } }
  }
}
