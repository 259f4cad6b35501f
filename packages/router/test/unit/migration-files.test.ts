import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TenantScopeError } from '@tenantscope/core'
import { createTenantDirectory, migrationFrom, readMigrationsFolder, validateEntry } from '@tenantscope/router'
import { describe, expect, test } from 'vitest'

describe('migration files', () => {
  test("drizzle-kit's statement breakpoints split a file; a file without them stays one statement", () => {
    const drizzleKit = migrationFrom('0000_x', 'CREATE TABLE a (id int);\n--> statement-breakpoint\nCREATE INDEX ON a (id);\n')
    expect(drizzleKit.statements).toEqual(['CREATE TABLE a (id int);', 'CREATE INDEX ON a (id);'])
    expect(migrationFrom('0001_y', 'SELECT 1; SELECT 2;').statements).toEqual(['SELECT 1; SELECT 2;'])
    // The checksum follows the text: an edit is seen.
    expect(migrationFrom('a', 'SELECT 1').checksum).not.toBe(migrationFrom('a', 'SELECT 1 ').checksum)
  })

  test('a folder is read in name order, its subfolders (drizzle-kit meta/) and other files ignored', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'tenantscope-router-unit-'))
    await writeFile(join(folder, '0002_b.sql'), 'SELECT 2')
    await writeFile(join(folder, '0001_a.sql'), 'SELECT 1')
    await writeFile(join(folder, 'notes.txt'), 'not sql')
    await mkdir(join(folder, 'meta'))
    await writeFile(join(folder, 'meta', '_journal.json'), '{}')
    expect((await readMigrationsFolder(folder)).map((m) => m.name)).toEqual(['0001_a', '0002_b'])
    await expect(readMigrationsFolder(join(folder, 'missing'))).rejects.toSatisfy((e) => TenantScopeError.is(e, 'INVALID_CONFIG'))
  })
})

describe('directory entries', () => {
  test('an entry that cannot be routed is INVALID_CONFIG', () => {
    const bad = (entry: object) => expect(() => validateEntry(entry as never)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
    bad({ tenantId: 't', strategy: 'shared', state: 'active' })
    bad({ tenantId: 't', strategy: 'pool', state: 'gone' })
    bad({ tenantId: 't', strategy: 'schema', schema: 'a; DROP', role: 'r', state: 'active' })
    bad({ tenantId: 't', strategy: 'schema', schema: 'a', state: 'active' })
    bad({ tenantId: 't', strategy: 'database', state: 'active' })
  })

  test('one lookup per tenant however many callers wait; cached until invalidated', async () => {
    let calls = 0
    const directory = createTenantDirectory(async (tenantId) => {
      calls++
      return { tenantId, strategy: 'pool', state: 'active' }
    })
    await Promise.all([directory.get('a'), directory.get('a'), directory.get('a')])
    expect(calls).toBe(1)
    expect(directory.peek('a')).toMatchObject({ strategy: 'pool' })
    directory.invalidate('a')
    expect(directory.peek('a')).toBeNull()
    await directory.get('a')
    expect(calls).toBe(2)
  })

  test('an answer for another tenant is refused', async () => {
    const directory = createTenantDirectory(() => ({ tenantId: 'other', strategy: 'pool', state: 'active' }))
    await expect(directory.get('a')).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
  })
})
