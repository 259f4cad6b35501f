import { randomUUID } from 'node:crypto'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tenantDirectoryCommand } from '@tenantscope/router'
import { APP_ROLE, createTestDatabase, type TestDatabase } from '@tenantscope/test-harness'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { dropRoles, rolePrefix } from './_fixtures.js'

describe('tenantDirectoryCommand: tenantscope tenant create|list|drop|migrate', () => {
  const prefix = rolePrefix()
  const tenant = randomUUID()
  let db: TestDatabase
  let folder: string

  beforeAll(async () => {
    db = await createTestDatabase()
    folder = await mkdtemp(join(tmpdir(), 'tenantscope-cli-'))
    await writeFile(join(folder, '0000_init.sql'), `CREATE TABLE notes (id serial PRIMARY KEY, body text);`)
  })
  afterAll(async () => {
    await db?.drop()
    await dropRoles(db.adminUrl, prefix)
  })

  async function run(action: 'create' | 'list' | 'drop' | 'migrate', ...args: string[]) {
    let stdout = ''
    let stderr = ''
    const code = await tenantDirectoryCommand(action, args, {
      stdout: (s) => void (stdout += s),
      stderr: (s) => void (stderr += s),
      env: { DATABASE_URL: db.adminUrl },
    })
    return { code, stdout, stderr }
  }

  test('create, list, migrate and drop a schema tenant', async () => {
    const created = await run(
      'create',
      tenant,
      '--strategy',
      'schema',
      '--schema',
      'tenant_cli',
      '--role',
      `${prefix}cli`,
      '--migrations',
      folder,
      '--app-role',
      APP_ROLE.name,
      '--gate-role',
      `${prefix}gate`,
    )
    expect(created).toMatchObject({ code: 0, stderr: '' })

    const listed = await run('list', '--json')
    expect(JSON.parse(listed.stdout)).toEqual([
      { tenantId: tenant, strategy: 'schema', schema: 'tenant_cli', role: `${prefix}cli`, state: 'active' },
    ])

    await writeFile(join(folder, '0001_more.sql'), `ALTER TABLE notes ADD COLUMN done boolean;`)
    const dry = await run('migrate', '--migrations', folder, '--dry-run', '--json')
    expect(dry.code).toBe(0)
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, targets: 2 })
    const migrated = await run('migrate', '--migrations', folder)
    expect(migrated).toMatchObject({ code: 0, stdout: expect.stringMatching(/^2 targets: 0 up to date, migrated 2, 0 failed/) })

    expect((await run('drop', tenant)).code).toBe(2)
    expect(await run('drop', tenant, '--yes')).toMatchObject({ code: 0 })
    expect(JSON.parse((await run('list', '--json')).stdout)).toEqual([])
  })

  test('usage errors exit 2 and change nothing; a refused create exits 1 with the code', async () => {
    expect((await run('create', tenant)).code).toBe(2)
    expect((await run('list', '--nope')).code).toBe(2)
    const bad = await run('create', tenant, '--strategy', 'schema', '--schema', 'Bad;Name')
    expect(bad).toMatchObject({ code: 1, stderr: expect.stringContaining('[INVALID_CONFIG]') })
    expect(JSON.parse((await run('list', '--json')).stdout)).toEqual([])
  })
})
