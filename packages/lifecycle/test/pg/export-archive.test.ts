import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { exportTenant, importTenant } from '@tenantscope/lifecycle'
import type pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type LifecycleDatabase, lifecycleDatabase, seedTenant, snapshot } from './_fixture.js'

// An export's data files are COPY's text byte for byte, as pg-copy-streams
// read it before: archives made earlier still import, and the checksums mean
// the same thing. Tables of several MB, so that the COPY spans many socket
// reads and the files go through the writer thread, in slices.
describe('export archive format', () => {
  let source: LifecycleDatabase
  let target: LifecycleDatabase
  let A: string
  let folder: string

  beforeAll(async () => {
    ;[source, target] = await Promise.all([lifecycleDatabase(), lifecycleDatabase()])
    A = await seedTenant(source.admin, 'acme', 2)
    await seedTenant(source.admin, 'globex', 2)
    await source.admin.query(
      `INSERT INTO audit_log (tenant_id, message, at)
       SELECT $1, 'event ' || g || CASE WHEN g % 7 = 0 THEN E'\\twith\\ttabs\\nand a newline \\\\ é€😀' ELSE '' END,
              timestamptz '2026-01-01 12:00:00+02' + g * interval '1 second'
         FROM generate_series(1, 60000) g`,
      [A],
    )
    await source.admin.query(
      `INSERT INTO users (tenant_id, email, name) SELECT $1, 'u' || g || '@example.com', repeat('n', g % 3000) FROM generate_series(1, 3000) g`,
      [A],
    )
    folder = await mkdtemp(join(tmpdir(), 'tenantscope-export-archive-'))
  })
  afterAll(async () => {
    await Promise.all([source?.end(), target?.end()])
    await rm(folder, { recursive: true, force: true })
  })

  // The obvious COPY of a table's rows, in a session with the export's output settings.
  async function plainCopy(client: pg.Client, table: string, column: string): Promise<Buffer> {
    await client.query(`BEGIN; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL TimeZone = 'UTC'; SET LOCAL IntervalStyle = 'postgres';
      SET LOCAL extra_float_digits = 3; SET LOCAL bytea_output = 'hex'`)
    const chunks: Buffer[] = []
    await pipeline(
      client.query(copyTo(`COPY (SELECT * FROM ${table} WHERE ${column} = ${client.escapeLiteral(A)}) TO STDOUT`)),
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

  test('each data file is the plain COPY text of its table, its SHA-256 and size in the manifest, in every export of a process', async () => {
    const expected = {
      'public.audit_log': await plainCopy(source.maintenance, 'audit_log', 'tenant_id'),
      'public.users': await plainCopy(source.maintenance, 'users', 'tenant_id'),
      'public.tenants': await plainCopy(source.maintenance, 'tenants', 'id'),
    }
    expect(expected['public.audit_log'].length).toBeGreaterThan(2_000_000)
    // The first export of a process may write its files before the writer thread is up; the later ones go through it.
    for (const run of [1, 2, 3]) {
      const directory = join(folder, `acme-${run}`)
      const manifest = await exportTenant({ client: source.maintenance, tenantId: A, directory })
      for (const [name, bytes] of Object.entries(expected)) {
        const table = manifest.tables.find((t) => t.name === name)!
        const file = await readFile(join(directory, table.file))
        expect(file.equals(bytes), `${name} in export ${run}`).toBe(true)
        expect(table).toMatchObject({ bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') })
      }
      expect(manifest.tables.find((t) => t.name === 'public.audit_log')?.rows).toBe(60002)
      expect(manifest.tables.find((t) => t.name === 'public.users')?.rows).toBe(3001)
    }
  })

  test('the archive imports into another database and verifies', async () => {
    const receipt = await importTenant({ client: target.maintenance, directory: join(folder, 'acme-3') })
    expect(receipt).toMatchObject({ verified: true })
    expect(await snapshot(target.admin, A)).toEqual(await snapshot(source.admin, A))
  })
})
