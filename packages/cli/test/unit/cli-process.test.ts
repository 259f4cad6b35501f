import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exampleMigrations, migrations } from '@tenantscope/sql'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { runCli } from '../run-cli.js'

describe('tenantscope (no database needed)', () => {
  test('no command prints usage and exits 2', async () => {
    const result = await runCli([])
    expect(result.code).toBe(2)
    expect(result.stdout).toContain('Usage: tenantscope <command>')
  })

  test('--help and --version exit 0', async () => {
    expect((await runCli(['--help'])).code).toBe(0)
    const version = await runCli(['--version'])
    expect(version.code).toBe(0)
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
    const doctorHelp = await runCli(['doctor', '--help'])
    expect(doctorHelp.code).toBe(0)
    expect(doctorHelp.stdout).toContain('--fail-on')
    expect(doctorHelp.stdout).toContain('--format <format>')
    const diffHelp = await runCli(['help', 'diff'])
    expect(diffHelp.code).toBe(0)
    expect(diffHelp.stdout).toContain('Usage: tenantscope diff --before')
  })

  test('an unknown command exits 2 with one line', async () => {
    const result = await runCli(['frobnicate'])
    expect(result.code).toBe(2)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toContain('unknown command')
  })

  test.each([
    [['doctor', '--bogus'], /Unknown option '--bogus'/],
    [['doctor', '--database-url', 'postgres://x@127.0.0.1/db', '--fail-on', 'fatal'], /--fail-on must be error, warning or info/],
    [['doctor'], /no database: pass --database-url/],
    [['doctor', '--database-url', 'mysql://root:hunter2@db/app'], /must start with postgres:\/\//],
    [['doctor', '--database-url', 'postgres://root:hunter2@[bad/app'], /not a valid URL/],
    [['doctor', '--database-url', 'postgres://x@127.0.0.1/db', '--format', 'xml'], /--format must be text, json, sarif or junit/],
    [['doctor', '--database-url', 'postgres://x@127.0.0.1/db', '--json', '--format', 'sarif'], /--json and --format disagree/],
    [['doctor', '--database-url', 'postgres://x@127.0.0.1/db', '--sarif-uri', 'x.sql'], /--sarif-uri needs --format sarif/],
    [['diff', '--after', 'postgres://x@127.0.0.1/db'], /--before <url\|report.json> is required/],
    [
      ['diff', '--before', '/no/such/report.json', '--after', 'postgres://root:hunter2@127.0.0.1/db'],
      /--before: cannot read a doctor report/,
    ],
    [['sql', '--overwrite'], /--overwrite needs --out/],
    [['sql', 'extra'], /Unexpected argument/],
  ])('bad arguments %j exit 2 with a one-line message', async (args, message) => {
    const result = await runCli(args)
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(message)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).not.toContain('hunter2')
    expect(result.stderr).not.toMatch(/\n\s+at /)
  })
})

describe('tenantscope sql', () => {
  let directory: string
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'tenantscope-sql-'))
  })
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true })
  })

  test('prints every migration in order, with the example schema only when asked', async () => {
    const result = await runCli(['sql'])
    expect(result.code).toBe(0)
    let at = -1
    for (const migration of migrations) {
      const index = result.stdout.indexOf(migration.sql.trimEnd())
      expect(index).toBeGreaterThan(at)
      at = index
    }
    expect(result.stdout).not.toContain(exampleMigrations[0]!.sql.trimEnd())
    const withExamples = await runCli(['sql', '--examples'])
    expect(withExamples.stdout.indexOf(exampleMigrations[0]!.sql.trimEnd())).toBeGreaterThan(at)
  })

  test('--list prints file names', async () => {
    const result = await runCli(['sql', '--list', '--examples'])
    expect(result.stdout.trim().split('\n')).toEqual([...migrations, ...exampleMigrations].map((m) => `${m.name}.sql`))
  })

  test('--out copies the files, keeps existing ones, and --overwrite replaces them', async () => {
    const out = join(directory, 'migrations')
    const first = await runCli(['sql', '--out', out])
    expect(first.code).toBe(0)
    expect((await readdir(out)).sort()).toEqual(migrations.map((m) => `${m.name}.sql`))
    for (const migration of migrations) expect(await readFile(join(out, `${migration.name}.sql`), 'utf8')).toBe(migration.sql)

    const edited = join(out, `${migrations[0]!.name}.sql`)
    await writeFile(edited, '-- mine')
    const second = await runCli(['sql', '--out', out])
    expect(second.code).toBe(0)
    expect(second.stdout).toContain(`kept ${migrations.length} existing files`)
    expect(await readFile(edited, 'utf8')).toBe('-- mine')

    const third = await runCli(['sql', '--out', out, '--overwrite'])
    expect(third.code).toBe(0)
    expect(await readFile(edited, 'utf8')).toBe(migrations[0]!.sql)
  })

  test('--out into a file that is not a directory exits 2', async () => {
    const file = join(directory, 'a-file')
    await writeFile(file, 'x')
    const result = await runCli(['sql', '--out', file])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^tenantscope sql: cannot write to /)
  })
})
