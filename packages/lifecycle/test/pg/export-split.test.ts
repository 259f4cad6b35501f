import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { exportTenant, TenantLifecycleError } from '@tenantscope/lifecycle'
import pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type LifecycleDatabase, lifecycleDatabase, seedTenant } from './_fixture.js'

// With connectWorker, a large table is read in two halves at once (TID
// ranges), the second on another connection sharing the export's snapshot.
// The archive must be the same bytes, the same snapshot, and a worker lost
// mid-COPY an INTERRUPTED export that a rerun completes. splitTablesOver: 0
// makes these small tables "large".
describe('export with a second connection (a table read in two halves)', () => {
  let source: LifecycleDatabase
  let A: string
  let folder: string
  let expected: Record<string, Buffer>

  beforeAll(async () => {
    source = await lifecycleDatabase()
    A = await seedTenant(source.admin, 'acme', 2)
    await seedTenant(source.admin, 'globex', 2)
    await source.admin.query(
      `INSERT INTO audit_log (tenant_id, message, at)
       SELECT $1, 'event ' || g || CASE WHEN g % 7 = 0 THEN E'\\twith\\ttabs\\nand a newline \\\\ é€😀' ELSE '' END,
              timestamptz '2026-01-01 12:00:00+02' + g * interval '1 second'
         FROM generate_series(1, 60000) g`,
      [A],
    )
    await source.admin.query('VACUUM ANALYZE audit_log')
    folder = await mkdtemp(join(tmpdir(), 'tenantscope-export-split-'))
    expected = { 'public.audit_log': await plainCopy(source.maintenance, 'audit_log') }
    expect(expected['public.audit_log']!.length).toBeGreaterThan(2_000_000)
  })
  afterAll(async () => {
    await source?.end()
    await rm(folder, { recursive: true, force: true })
  })

  // The obvious COPY of the tenant's rows, in a session with the export's output settings.
  async function plainCopy(client: pg.Client, table: string): Promise<Buffer> {
    await client.query(`BEGIN; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL TimeZone = 'UTC'; SET LOCAL IntervalStyle = 'postgres';
      SET LOCAL extra_float_digits = 3; SET LOCAL bytea_output = 'hex'`)
    const chunks: Buffer[] = []
    await pipeline(
      client.query(copyTo(`COPY (SELECT * FROM ${table} WHERE tenant_id = ${client.escapeLiteral(A)}) TO STDOUT`)),
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          chunks.push(Buffer.from(chunk))
          done()
        },
      }),
    )
    await client.query('COMMIT')
    return Buffer.concat(chunks)
  }

  // Opens worker connections as `url`, counting them; `before` runs on each before it is handed over.
  function workers(url: string, before?: (client: pg.Client) => Promise<void>) {
    const opened: pg.Client[] = []
    const connectWorker = async () => {
      const client = new pg.Client({ connectionString: url })
      client.on('error', () => undefined)
      await client.connect()
      opened.push(client)
      await before?.(client)
      return client
    }
    return { opened, connectWorker }
  }

  async function expectArchive(directory: string, manifest: Awaited<ReturnType<typeof exportTenant>>) {
    const table = manifest.tables.find((t) => t.name === 'public.audit_log')!
    const file = await readFile(join(directory, table.file))
    const bytes = expected['public.audit_log']!
    expect(file.equals(bytes)).toBe(true)
    expect(table).toMatchObject({ rows: 60002, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') })
    expect((await readdir(directory)).filter((f) => f.endsWith('.tail'))).toEqual([])
  }

  test('the data file is the plain COPY text of the table, from both halves, and the worker connection is ended', async () => {
    const { opened, connectWorker } = workers(source.db.maintenanceUrl)
    // The second half held in memory, then spooled to a file from its first byte on.
    for (const [run, tailMemory] of [
      [1, undefined],
      [2, 0],
    ] as const) {
      const directory = join(folder, `plain-${run}`)
      const manifest = await exportTenant({
        client: source.maintenance,
        tenantId: A,
        directory,
        connectWorker,
        splitTablesOver: 0,
        ...(tailMemory === undefined ? {} : { tailMemory }),
      })
      await expectArchive(directory, manifest)
      expect(opened).toHaveLength(run)
      // Ended by the export: a query on it fails.
      await expect(opened[run - 1]!.query('SELECT 1')).rejects.toThrow()
    }
  })

  test('rows written after the snapshot, in either half, are not in the archive', async () => {
    const { opened, connectWorker } = workers(source.db.maintenanceUrl, async () => {
      // Committed after the export's snapshot was taken (it exports it before connecting): the first row
      // (first half) deleted, the last (second half) changed, one added at the end.
      await source.admin.query(
        `DELETE FROM audit_log WHERE id = (SELECT min(id) FROM audit_log WHERE tenant_id = $1);
         UPDATE audit_log SET message = 'changed' WHERE id = (SELECT max(id) FROM audit_log WHERE tenant_id = $1);
         INSERT INTO audit_log (tenant_id, message) VALUES ($1, 'late')`.replace(/\$1/g, source.admin.escapeLiteral(A)),
      )
    })
    const directory = join(folder, 'concurrent')
    const manifest = await exportTenant({ client: source.maintenance, tenantId: A, directory, connectWorker, splitTablesOver: 0 })
    expect(opened).toHaveLength(1)
    await expectArchive(directory, manifest)
    // The writes happened: a later plain COPY differs.
    expect((await plainCopy(source.maintenance, 'audit_log')).equals(expected['public.audit_log']!)).toBe(false)
    expected['public.audit_log'] = await plainCopy(source.maintenance, 'audit_log')
  })

  test('a worker killed in the middle of its COPY: INTERRUPTED, no manifest, and a rerun writes the whole archive', async () => {
    const directory = join(folder, 'killed')
    // The worker's COPY queues behind an ACCESS EXCLUSIVE request that itself waits for the export's
    // lock (taken when it planned), so the worker is killed while its COPY is under way.
    const locker = new pg.Client({ connectionString: source.db.adminUrl })
    await locker.connect()
    const lockerPid = (await locker.query('SELECT pg_backend_pid() AS pid')).rows[0].pid
    const { connectWorker } = workers(source.db.maintenanceUrl, async (worker) => {
      const pid = (await worker.query('SELECT pg_backend_pid() AS pid')).rows[0].pid
      await locker.query('BEGIN')
      const lock = locker.query('LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE').catch(() => undefined)
      void (async () => {
        await expect
          .poll(
            async () =>
              (await source.admin.query(`SELECT query FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`, [pid])).rows[0]
                ?.query ?? '',
          )
          .toMatch(/^COPY/)
        await source.admin.query('SELECT pg_terminate_backend($1)', [pid])
        await source.admin.query('SELECT pg_cancel_backend($1)', [lockerPid])
        await lock
        await locker.query('ROLLBACK')
      })()
    })
    const error = await exportTenant({ client: source.maintenance, tenantId: A, directory, connectWorker, splitTablesOver: 0 }).catch(
      (e) => e,
    )
    expect(TenantLifecycleError.is(error, 'INTERRUPTED')).toBe(true)
    const left = await readdir(directory)
    expect(left).not.toContain('manifest.json')
    expect(left.filter((f) => f.endsWith('.tail'))).toEqual([])
    await locker.end()
    // The export's own connection is usable again, and a rerun completes.
    const manifest = await exportTenant({
      client: source.maintenance,
      tenantId: A,
      directory,
      connectWorker: workers(source.db.maintenanceUrl).connectWorker,
      splitTablesOver: 0,
    })
    await expectArchive(directory, manifest)
  })

  test('a worker connected as another role is refused before it reads anything', async () => {
    const { connectWorker } = workers(source.db.appUrl)
    const error = await exportTenant({
      client: source.maintenance,
      tenantId: A,
      directory: join(folder, 'other-role'),
      connectWorker,
      splitTablesOver: 0,
    }).catch((e) => e)
    expect(String(error)).toMatch(/second connection is .*, not /)
  })
})
