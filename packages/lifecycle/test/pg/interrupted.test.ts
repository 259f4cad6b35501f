import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eraseTenant, exportTenant, importTenant, TenantLifecycleError } from '@tenantscope/lifecycle'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type LifecycleDatabase, lifecycleDatabase, seedTenant, snapshot } from './_fixture.js'

// A connection killed in the middle of each operation: a typed INTERRUPTED
// error that says what was left, and a rerun that completes the work.
describe('interrupted export, import and erase', () => {
  let source: LifecycleDatabase
  let target: LifecycleDatabase
  let A: string
  let folder: string

  beforeAll(async () => {
    ;[source, target] = await Promise.all([lifecycleDatabase(), lifecycleDatabase()])
    A = await seedTenant(source.admin, 'acme', 4)
    await seedTenant(source.admin, 'globex', 2)
    folder = await mkdtemp(join(tmpdir(), 'tenantscope-interrupted-'))
  })
  afterAll(async () => {
    await Promise.all([source?.end(), target?.end()])
    await rm(folder, { recursive: true, force: true })
  })

  // A maintenance connection whose backend the admin terminates at the first progress report.
  async function killedAtFirstStep(db: LifecycleDatabase): Promise<{ client: pg.Client; onProgress: () => Promise<void> }> {
    const client = new pg.Client({ connectionString: db.db.maintenanceUrl })
    client.on('error', () => undefined)
    await client.connect()
    const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid
    let killed = false
    const onProgress = async () => {
      if (killed) return
      killed = true
      await db.admin.query('SELECT pg_terminate_backend($1)', [pid])
      await expect
        .poll(async () => (await db.admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [pid])).rows[0].n)
        .toBe(0)
    }
    return { client, onProgress }
  }
  const interrupted = (error: unknown) => TenantLifecycleError.is(error, 'INTERRUPTED')

  test('export: no manifest is left, and a rerun writes the whole archive', async () => {
    const directory = join(folder, 'acme')
    const { client, onProgress } = await killedAtFirstStep(source)
    const error = await exportTenant({ client, tenantId: A, directory, onProgress }).catch((e) => e)
    expect(interrupted(error)).toBe(true)
    expect(await readdir(directory)).not.toContain('manifest.json')
    const manifest = await exportTenant({ client: source.maintenance, tenantId: A, directory })
    expect(manifest.tables.find((t) => t.name === 'public.projects')?.rows).toBe(4)
    expect(await readdir(directory)).toContain('manifest.json')
  })

  test('import: rolled back whole, and a rerun completes it', async () => {
    const directory = join(folder, 'acme')
    const { client, onProgress } = await killedAtFirstStep(target)
    const error = await importTenant({ client, directory, onProgress }).catch((e) => e)
    expect(interrupted(error)).toBe(true)
    for (const rows of Object.values(await snapshot(target.admin, A))) expect(rows).toEqual([])
    expect(await importTenant({ client: target.maintenance, directory })).toMatchObject({ verified: true })
    expect(await snapshot(target.admin, A)).toEqual(await snapshot(source.admin, A))
  })

  test('erase: stops between batches, says so, and a rerun finishes and verifies', async () => {
    const { client, onProgress } = await killedAtFirstStep(source)
    const error = await eraseTenant({ client, tenantId: A, force: true, batchSize: 1, onProgress }).catch((e) => e)
    expect(interrupted(error)).toBe(true)
    expect(error.message).toMatch(/Run it again/)
    const left = Object.values(await snapshot(source.admin, A)).flat().length
    expect(left).toBeGreaterThan(0)
    const receipt = await eraseTenant({ client: source.maintenance, tenantId: A, force: true })
    expect(receipt).toMatchObject({ verified: true })
    for (const rows of Object.values(await snapshot(source.admin, A))) expect(rows).toEqual([])
  })
})
