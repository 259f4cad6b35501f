import { randomUUID } from 'node:crypto'
import { createTableDirectory, type TenantDirectory } from '@tenantscope/router'
import { createTestDatabase, type TestDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

// While a listening directory's connection is down, a change is announced
// to nobody: the directory must keep no entry then (its TTL would hide the
// change, a tenant mover's freeze included), and cache again once it listens.
describe('a table directory whose listener is down', () => {
  const A = randomUUID()
  let db: TestDatabase
  let admin: pg.Pool
  let appPool: pg.Pool
  let directory: TenantDirectory
  let down = false

  beforeAll(async () => {
    db = await createTestDatabase()
    admin = new pg.Pool({ connectionString: db.adminUrl, max: 1 })
    await admin.query(`INSERT INTO tenantscope.tenant_directory (tenant_id, strategy) VALUES ($1, 'pool')`, [A])
    appPool = new pg.Pool({ connectionString: db.appUrl, max: 1 })
    const url = new URL(db.appUrl)
    // Read at every (re)connection: while `down`, the listener cannot come back.
    const listen = {
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      host: url.hostname,
      database: url.pathname.slice(1),
      get port() {
        return down ? 1 : Number(url.port || 5432)
      },
    }
    directory = await createTableDirectory(appPool, { ttlMillis: 3_600_000, listen })
  })
  afterAll(async () => {
    await directory?.close()
    await appPool?.end()
    await admin?.end()
    await db?.drop()
  })

  test('no entry is kept while it reconnects; a change made then is seen at once; entries are kept again once it listens', async () => {
    expect((await directory.get(A))?.state).toBe('active')
    expect(directory.peek(A)).not.toBeNull()

    down = true
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE starts_with(application_name, 'tenantscope-directory:')`,
    )
    await expect.poll(() => directory.peek(A)).toBeNull()
    expect((await directory.get(A))?.state).toBe('active')
    expect(directory.peek(A)).toBeNull()
    // Nobody hears this change's NOTIFY.
    await admin.query(`UPDATE tenantscope.tenant_directory SET state = 'moving' WHERE tenant_id = $1`, [A])
    expect((await directory.get(A))?.state).toBe('moving')

    down = false
    await expect
      .poll(async () => {
        await directory.get(A)
        return directory.peek(A) !== null
      })
      .toBe(true)
    // Listening again: a change reaches it through the notification.
    await admin.query(`UPDATE tenantscope.tenant_directory SET state = 'active' WHERE tenant_id = $1`, [A])
    await expect.poll(async () => (await directory.get(A))?.state).toBe('active')
  })
})
