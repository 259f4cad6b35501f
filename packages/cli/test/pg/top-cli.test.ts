import { createTenantPool, type TenantPool, type TenantPoolClient, withTenant } from '@tenantscope/core'
import { createTestDatabase, type TestDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { topCommand } from '../../src/cli/top-command.js'
import { runCli } from '../run-cli.js'

const A = '0a0a0a0a-0000-4000-8000-00000000000a'
const B = '0b0b0b0b-0000-4000-8000-00000000000b'

// tenantscope top against live sessions: tenant A runs a statement that waits
// on a lock, tenant B holds a transaction open and idle.
describe('tenantscope top', () => {
  let db: TestDatabase
  let pool: TenantPool
  let gate: pg.Client
  let idle: TenantPoolClient
  let waiting: Promise<unknown>

  beforeAll(async () => {
    db = await createTestDatabase()
    gate = new pg.Client({ connectionString: db.adminUrl })
    await gate.connect()
    await gate.query(`INSERT INTO tenants (id, name) VALUES ($1, 'A'), ($2, 'B')`, [A, B])
    await gate.query('SELECT pg_advisory_lock(99)')
    pool = createTenantPool({ connectionString: db.appUrl, max: 3, application_name: 'api' }, { activityTag: true })
    waiting = withTenant(A, () => pool.query('SELECT pg_advisory_lock_shared(99), pg_advisory_unlock_shared(99)')).catch(
      (error: unknown) => error,
    )
    idle = await withTenant(B, () => pool.connect())
    await withTenant(B, async () => {
      await idle.query('BEGIN')
      await idle.query('SELECT count(*) FROM projects')
    })
  })
  afterAll(async () => {
    await gate?.query('SELECT pg_advisory_unlock(99)')
    await waiting
    if (idle) {
      await withTenant(B, () => idle.query('ROLLBACK'))
      idle.release()
    }
    await pool?.end()
    await gate?.end()
    await db?.drop()
  })

  test('--json: per tenant, running and waiting sessions with their wait event, and an idle open transaction', async () => {
    await expect
      .poll(async () => {
        const result = await runCli(['top', '--json', '--database-url', db.adminUrl])
        expect(result.code).toBe(0)
        return JSON.parse(result.stdout).tenants
      })
      .toEqual(
        expect.arrayContaining([
          expect.objectContaining({ tenant: A, running: 1, waiting: 1, idleInTransaction: 0, topWaitEvent: 'Lock:advisory' }),
          expect.objectContaining({ tenant: B, running: 0, waiting: 0, idleInTransaction: 1 }),
        ]),
      )
  })

  test('--once: the same as a table', async () => {
    const result = await runCli(['top', '--once'], { DATABASE_URL: db.adminUrl })
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/tenant\s+running\s+waiting\s+idle in tx\s+longest tx\s+top wait event/)
    expect(result.stdout).toMatch(new RegExp(`${A}\\s+1\\s+1\\s+0\\s+\\S+s\\s+Lock:advisory`))
    expect(result.stdout).toMatch(new RegExp(`${B}\\s+0\\s+0\\s+1`))
  })

  test('on a terminal it redraws until Ctrl+C (the abort signal), then closes its connection', async () => {
    const frames: string[] = []
    const interrupt = new AbortController()
    const io = {
      stdout: (text: string) => {
        frames.push(text)
        if (frames.length === 2) interrupt.abort()
      },
      stderr: () => undefined,
      env: { DATABASE_URL: db.adminUrl },
    }
    const code = await topCommand(['--interval', '0.05'], io, { tty: true, signal: interrupt.signal })
    expect(code).toBe(0)
    expect(frames).toHaveLength(2)
    for (const frame of frames) expect(frame.startsWith('\x1b[2J\x1b[H')).toBe(true)
    // The server ends the backend shortly after the client's Terminate.
    await expect
      .poll(
        async () =>
          (await gate.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'tenantscope top'`)).rows[0].n,
      )
      .toBe(0)
  })

  test('pg_stat_statements missing, then installed but not loaded: top says which, and still reports activity', async () => {
    const missing = JSON.parse((await runCli(['top', '--json', '--database-url', db.adminUrl])).stdout)
    expect(missing.statements).toEqual({ unavailable: expect.stringMatching(/not installed/), statements: [] })
    // The run's server does not preload it (the statements themselves are tested in top-statements.test.ts).
    await gate.query('CREATE EXTENSION pg_stat_statements')
    try {
      const result = await runCli(['top', '--once', '--database-url', db.adminUrl])
      expect(result.code).toBe(0)
      expect(result.stdout).toContain(
        'pg_stat_statements: pg_stat_statements is installed but not loaded: add it to shared_preload_libraries',
      )
      expect(result.stdout).toMatch(new RegExp(`${B}\\s+0\\s+0\\s+1`))
    } finally {
      await gate.query('DROP EXTENSION pg_stat_statements')
    }
  })

  test('bad arguments: exit 2 with a one-line reason, no connection string echoed', async () => {
    expect(await runCli(['top', '--interval', '0', '--database-url', db.adminUrl])).toMatchObject({
      code: 2,
      stderr: 'tenantscope top: --interval must be a positive number\n',
    })
    const secret = 'postgres://u:hunter2@127.0.0.1:1/db'
    const refused = await runCli(['top', '--once', '--database-url', secret])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/^tenantscope top: cannot connect to the database/)
    expect(refused.stderr).not.toContain('hunter2')
  })
})
