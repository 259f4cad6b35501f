import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eraseTenant, exportTenant, importTenant, type LifecycleProgress, TenantLifecycleError } from '@tenantscope/lifecycle'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type LifecycleDatabase, lifecycleDatabase, seedTenant, snapshot } from './_fixture.js'

const codeOf = (error: unknown) => (TenantLifecycleError.is(error) ? error.code : error)

describe('tenant export, import and erase', () => {
  let source: LifecycleDatabase
  let target: LifecycleDatabase
  let A: string
  let B: string
  let folder: string
  const archive = (name: string) => join(folder, name)

  beforeAll(async () => {
    ;[source, target] = await Promise.all([lifecycleDatabase(), lifecycleDatabase()])
    A = await seedTenant(source.admin, 'acme')
    B = await seedTenant(source.admin, 'globex', 2)
    folder = await mkdtemp(join(tmpdir(), 'tenantscope-lifecycle-'))
  })
  afterAll(async () => {
    await Promise.all([source?.end(), target?.end()])
    await rm(folder, { recursive: true, force: true })
  })

  test('export: every table that holds the tenant, parents first, with counts and checksums, and nothing of another tenant', async () => {
    const progress: LifecycleProgress[] = []
    const manifest = await exportTenant({
      client: source.maintenance,
      tenantId: A,
      directory: archive('acme'),
      onProgress: (p) => void progress.push(p),
    })
    const order = manifest.tables.map((t) => t.name)
    expect(order).toEqual(
      expect.arrayContaining([
        'public.tenants',
        'public.users',
        'public.projects',
        'public.invoices',
        'public.audit_log',
        'public.comments',
        'public.reactions',
      ]),
    )
    const comesBefore = (a: string, b: string) => expect(order.indexOf(a)).toBeLessThan(order.indexOf(b))
    comesBefore('public.tenants', 'public.users')
    comesBefore('public.users', 'public.projects')
    comesBefore('public.projects', 'public.invoices')
    comesBefore('public.projects', 'public.comments')
    comesBefore('public.comments', 'public.reactions')
    const rows = Object.fromEntries(manifest.tables.map((t) => [t.name, t.rows]))
    expect(rows).toMatchObject({
      'public.tenants': 1,
      'public.users': 1,
      'public.projects': 3,
      'public.invoices': 6,
      'public.comments': 3,
      'public.reactions': 6,
      'public.audit_log': 2,
    })
    expect(manifest.tables.find((t) => t.name === 'public.comments')?.via).toBe('foreign key to public.projects')
    expect(manifest.tables.find((t) => t.name === 'public.reactions')?.via).toBe('foreign key to public.comments')
    expect(manifest.tables.find((t) => t.name === 'public.tenants')?.via).toBe('registry')
    expect(manifest.tables.find((t) => t.name === 'public.invoices')?.columns).toContainEqual({ name: 'currency', type: 'character(3)' })
    for (const table of manifest.tables) expect(table.sha256).toMatch(/^[0-9a-f]{64}$/)
    const files = await Promise.all(manifest.tables.map((t) => readFile(join(archive('acme'), t.file), 'utf8')))
    const all = files.join('')
    expect(all).toContain(A)
    expect(all).not.toContain(B)
    expect(all).not.toContain('globex')
    expect(progress.filter((p) => p.phase === 'export').at(-1)).toMatchObject({
      index: manifest.tables.length,
      total: manifest.tables.length,
    })
  })

  test('import into another database: the same rows, verified; sequences moved past the imported ids', async () => {
    const receipt = await importTenant({ client: target.maintenance, directory: archive('acme') })
    expect(receipt).toMatchObject({ tenantId: A, verified: true, replacedRows: 0 })
    expect(await snapshot(target.admin, A)).toEqual(await snapshot(source.admin, A))
    // New rows get ids after the imported ones: no duplicate key.
    const { rows } = await target.admin.query(`INSERT INTO audit_log (tenant_id, message) VALUES ($1, 'after') RETURNING id`, [A])
    const max = await target.admin.query(`SELECT max(id)::int AS m FROM audit_log WHERE message <> 'after'`)
    expect(Number(rows[0].id)).toBeGreaterThan(max.rows[0].m)
    await target.admin.query(`DELETE FROM audit_log WHERE message = 'after'`)
  })

  test('importing over a tenant the target holds is refused, and replace swaps it in one transaction', async () => {
    expect(codeOf(await importTenant({ client: target.maintenance, directory: archive('acme') }).catch((e) => e))).toBe('TENANT_EXISTS')
    await target.admin.query(`UPDATE projects SET name = 'changed' WHERE tenant_id = $1`, [A])
    const receipt = await importTenant({ client: target.maintenance, directory: archive('acme'), replace: true })
    expect(receipt.replacedRows).toBeGreaterThan(0)
    expect(await snapshot(target.admin, A)).toEqual(await snapshot(source.admin, A))
  })

  test('erase: a dry run lists and deletes nothing; without force it is refused; with it, nothing is left and the receipt is kept', async () => {
    const other = await snapshot(source.admin, B)
    const dry = await eraseTenant({ client: source.maintenance, tenantId: A, dryRun: true })
    expect(dry).toMatchObject({ dryRun: true, rows: 22, recorded: false })
    const order = dry.tables.map((t) => t.name)
    // Children first: a row goes before the rows it refers to.
    for (const [child, parent] of [
      ['public.reactions', 'public.comments'],
      ['public.comments', 'public.projects'],
      ['public.invoices', 'public.projects'],
      ['public.users', 'public.tenants'],
    ]) {
      expect(order.indexOf(child!)).toBeLessThan(order.indexOf(parent!))
    }
    expect(codeOf(await eraseTenant({ client: source.maintenance, tenantId: A }).catch((e) => e))).toBe('ERASE_REFUSED')
    expect((await snapshot(source.admin, A)).projects).toHaveLength(3)

    const receipt = await eraseTenant({ client: source.maintenance, tenantId: A, force: true, batchSize: 2 })
    expect(receipt).toMatchObject({ dryRun: false, rows: 22, verified: true, recorded: true })
    for (const rows of Object.values(await snapshot(source.admin, A))) expect(rows).toEqual([])
    expect(await snapshot(source.admin, B)).toEqual(other)
    const kept = await source.admin.query(`SELECT tenant_id, rows::int, verified FROM tenantscope.tenant_erasures`)
    expect(kept.rows).toEqual([{ tenant_id: A, rows: 22, verified: true }])
  })

  test('restore after an erase brings the tenant back as it was', async () => {
    await importTenant({ client: source.maintenance, directory: archive('acme') })
    expect(await snapshot(source.admin, A)).toEqual(await snapshot(target.admin, A))
  })

  test('a tampered, truncated or incomplete archive is refused before anything is written', async () => {
    const fresh = await lifecycleDatabase()
    try {
      const manifest = JSON.parse(await readFile(join(archive('acme'), 'manifest.json'), 'utf8'))
      const projects = manifest.tables.find((t: { name: string }) => t.name === 'public.projects')
      const copy = async (name: string, change: (text: string) => string) => {
        const dir = archive(name)
        await exportTenant({ client: source.maintenance, tenantId: A, directory: dir })
        const file = join(dir, projects.file)
        await writeFile(file, change(await readFile(file, 'utf8')))
        return dir
      }
      const tampered = await copy('tampered', (text) => text.replace('acme project 1', 'acme project X'))
      const truncated = await copy('truncated', (text) => text.split('\n').slice(0, 1).join('\n') + '\n')
      for (const dir of [tampered, truncated]) {
        expect(codeOf(await importTenant({ client: fresh.maintenance, directory: dir }).catch((e) => e))).toBe('ARCHIVE_INVALID')
      }
      await rm(join(tampered, 'manifest.json'))
      const error = await importTenant({ client: fresh.maintenance, directory: tampered }).catch((e) => e)
      expect(error).toMatchObject({ code: 'ARCHIVE_INVALID', message: expect.stringMatching(/no manifest/) })
      expect((await fresh.admin.query('SELECT count(*)::int AS n FROM projects')).rows).toEqual([{ n: 0 }])
    } finally {
      await fresh.end()
    }
  })

  test('a target whose schema does not match is refused before anything is written', async () => {
    const fresh = await lifecycleDatabase()
    try {
      await fresh.admin.query('ALTER TABLE invoices DROP COLUMN currency; ALTER TABLE audit_log ALTER COLUMN message TYPE varchar(200)')
      const error = await importTenant({ client: fresh.maintenance, directory: archive('acme') }).catch((e) => e)
      expect(error).toMatchObject({ code: 'SCHEMA_INCOMPATIBLE' })
      expect(error.message).toContain('public.invoices.currency is missing')
      expect(error.message).toContain('public.audit_log.message is character varying(200)')
      expect((await fresh.admin.query('SELECT count(*)::int AS n FROM tenants')).rows).toEqual([{ n: 0 }])
    } finally {
      await fresh.end()
    }
  })

  test('bad input: an invalid id and an unknown tenant are typed errors that write nothing and never echo the id', async () => {
    const bad = "x'; DROP TABLE tenants; --"
    const invalid = await exportTenant({ client: source.maintenance, tenantId: bad, directory: archive('bad') }).catch((e) => e)
    expect(invalid).toMatchObject({ code: 'INVALID_TENANT_ID' })
    expect(invalid.message).not.toContain(bad)
    expect(await readdir(folder)).not.toContain('bad')
    const unknown = '00000000-0000-4000-8000-000000000000'
    expect(
      codeOf(await exportTenant({ client: source.maintenance, tenantId: unknown, directory: archive('unknown') }).catch((e) => e)),
    ).toBe('TENANT_NOT_FOUND')
    expect(codeOf(await eraseTenant({ client: source.maintenance, tenantId: bad, force: true }).catch((e) => e))).toBe('INVALID_TENANT_ID')
  })
})
