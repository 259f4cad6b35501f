import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exportTenant } from '@tenantscope/lifecycle'
import { MAINTENANCE_ROLE } from '@tenantscope/test-harness'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type LifecycleDatabase, lifecycleDatabase } from './_fixture.js'

// COPY takes no parameters, so the export writes the tenant into its text as
// a literal the server quoted: the planner then plans for this tenant (a big
// one is read by a sequential scan, as the obvious COPY ... WHERE tenant_id =
// '<id>' would be), and no id can end the literal.
describe('export: the tenant as a server-quoted literal', () => {
  let source: LifecycleDatabase
  let folder: string

  beforeAll(async () => {
    source = await lifecycleDatabase()
    await source.admin.query(`CREATE SCHEMA notes_app;
      CREATE TABLE notes_app.notes (tenant_id text NOT NULL, id int NOT NULL, body text NOT NULL, PRIMARY KEY (tenant_id, id));
      INSERT INTO notes_app.notes SELECT 'big', g, 'b' || g FROM generate_series(1, 20000) g;
      INSERT INTO notes_app.notes SELECT 'small' || (g % 50), g, 's' FROM generate_series(1, 500) g;
      INSERT INTO notes_app.notes VALUES (E'o''brien\\\\', 1, 'quoted'), ('o', 1, 'prefix'), (E'o''brien\\\\x', 1, 'longer');
      ANALYZE notes_app.notes;
      GRANT USAGE ON SCHEMA notes_app TO ${MAINTENANCE_ROLE.name};
      GRANT SELECT ON notes_app.notes TO ${MAINTENANCE_ROLE.name}`)
    folder = await mkdtemp(join(tmpdir(), 'tenantscope-export-plan-'))
  })
  afterAll(async () => {
    await source?.end()
    await rm(folder, { recursive: true, force: true })
  })

  const exportOf = (tenantId: string, name: string) =>
    exportTenant({
      client: source.maintenance,
      tenantId,
      directory: join(folder, name),
      parseTenantId: (id) => id,
      schemas: ['notes_app'],
      tenantColumn: 'tenant_id',
    })

  async function scans(): Promise<{ seq: number; idx: number }> {
    const { rows } = await source.admin.query<{ seq: string; idx: string }>(
      `SELECT seq_scan AS seq, coalesce(idx_scan, 0) AS idx FROM pg_stat_user_tables WHERE relid = 'notes_app.notes'::regclass`,
    )
    return { seq: Number(rows[0]!.seq), idx: Number(rows[0]!.idx) }
  }

  test("a big tenant's rows are read by a sequential scan, as the obvious COPY would", async () => {
    const before = await scans()
    const manifest = await exportOf('big', 'big')
    expect(manifest.tables[0]?.rows).toBe(20000)
    // The export's own statistics reach pg_stat_user_tables when its session flushes them.
    await source.maintenance.query('SELECT pg_stat_force_next_flush()')
    await source.maintenance.query('SELECT 1')
    let after = await scans()
    for (let i = 0; i < 50 && after.seq === before.seq; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      after = await scans()
    }
    expect(after.seq - before.seq).toBeGreaterThanOrEqual(1)
    expect(after.idx - before.idx).toBe(0)
  })

  test('an id with a quote and a backslash exports its own rows only, also with standard_conforming_strings off', async () => {
    await source.maintenance.query('SET standard_conforming_strings = off')
    try {
      const manifest = await exportOf("o'brien\\", 'quoted')
      const table = manifest.tables.find((t) => t.name === 'notes_app.notes')!
      expect(table.rows).toBe(1)
      const text = await readFile(join(folder, 'quoted', table.file), 'utf8')
      expect(text).toBe("o'brien\\\\\t1\tquoted\n")
    } finally {
      await source.maintenance.query('RESET standard_conforming_strings')
    }
  })
})
