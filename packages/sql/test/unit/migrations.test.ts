import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exampleMigrations, migrations, writeMigrations } from '@tenantscope/sql'
import { describe, expect, test } from 'vitest'

describe('@tenantscope/sql', () => {
  test('migrations come in name order, each with SQL', () => {
    const names = migrations.map((m) => m.name)
    expect(names).toEqual([...names].sort())
    expect(names[0]).toBe('0001_tenantscope_schema')
    expect(migrations.every((m) => m.sql.trim().length > 0)).toBe(true)
    expect(exampleMigrations.map((m) => m.name)).toEqual(['0001_example_schema'])
  })

  test('writeMigrations copies them into a folder, leaves existing files alone, and takes a naming scheme', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tenantscope-sql-'))
    await writeFile(join(dir, '0001_tenantscope_schema.sql'), '-- edited by the user')
    const written = await writeMigrations(dir)
    expect(written).toHaveLength(migrations.length - 1)
    expect(await readFile(join(dir, '0001_tenantscope_schema.sql'), 'utf8')).toBe('-- edited by the user')
    expect(await readFile(join(dir, '0004_audit.sql'), 'utf8')).toBe(migrations.find((m) => m.name === '0004_audit')!.sql)

    const other = await mkdtemp(join(tmpdir(), 'tenantscope-sql-'))
    await writeMigrations(other, { fileName: (m, i) => `V${i + 1}__${m.name}.sql` })
    expect((await readdir(other)).sort()[0]).toBe('V1__0001_tenantscope_schema.sql')
    await expect(writeMigrations(other, { fileName: () => '../escape.sql' })).rejects.toThrow(/path separator/)
  })
})
