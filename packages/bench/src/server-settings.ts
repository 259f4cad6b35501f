import { withClient } from '@tenantscope/test-harness'

/** Settings that move the numbers (durability, memory, connections, JIT), disclosed in the report. */
export const DISCLOSED_SETTINGS = [
  'server_version',
  'fsync',
  'synchronous_commit',
  'shared_buffers',
  'max_connections',
  'jit',
  'wal_level',
  'huge_pages',
] as const

export async function readServerSettings(adminUrl: string): Promise<Record<string, string>> {
  return withClient(adminUrl, async (client) => {
    const { rows } = await client.query<{ name: string; setting: string }>(
      `SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name = ANY($1) ORDER BY array_position($1, name)`,
      [DISCLOSED_SETTINGS],
    )
    return Object.fromEntries(rows.map((row) => [row.name, row.setting]))
  })
}
