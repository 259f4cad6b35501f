import { createHash } from 'node:crypto'
import { createTenantPool, type TenantPool, withTenant } from '@tenantscope/core'
import { type PgBouncer, startPgBouncer } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { useFixture } from './_fixtures.js'

// activityTag: while a scoped statement runs, pg_stat_activity shows which
// tenant it serves; after it, the connection shows the application's own name.
describe('activityTag', () => {
  const fixture = useFixture()
  const A = () => fixture.tenantA
  const pools: { end(): Promise<void> }[] = []
  let bouncer: PgBouncer | undefined
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.end()))
    await bouncer?.stop()
  })
  beforeAll(async () => {
    bouncer = await startPgBouncer(fixture.db.adminUrl, { poolSize: 1 })
  })

  const tenantPool = (url: string, options: Parameters<typeof createTenantPool>[1]) => {
    const pool = createTenantPool({ connectionString: url, max: 1, application_name: 'billing-api' }, options)
    pools.push(pool)
    return pool
  }

  // Runs `statement` held on an advisory lock, and reads the backend's
  // application_name while it runs and after it finished.
  async function namesDuringAndAfter(
    pool: TenantPool,
    run: (pool: TenantPool) => Promise<unknown>,
  ): Promise<{ during: string; after: string }> {
    const gate = await fixture.admin.connect()
    try {
      await gate.query('SELECT pg_advisory_lock(7)')
      const running = withTenant(A(), () => run(pool)).then(
        () => undefined,
        (error: unknown) => error,
      )
      let pid = 0
      let during = ''
      await expect
        .poll(async () => {
          const { rows } = await fixture.admin.query(
            `SELECT pid, application_name FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%pg_advisory_xact_lock_shared(7)%'`,
          )
          if (rows[0]) ({ pid, application_name: during } = rows[0])
          return rows.length
        })
        .toBe(1)
      await gate.query('SELECT pg_advisory_unlock(7)')
      expect(await running).toBeUndefined()
      const { rows } = await fixture.admin.query('SELECT application_name FROM pg_stat_activity WHERE pid = $1', [pid])
      return { during, after: rows[0]?.application_name }
    } finally {
      gate.release()
    }
  }
  const held = 'SELECT pg_advisory_xact_lock_shared(7)'

  test('pool.query: the tenant shows in application_name during the statement, and is gone after it', async () => {
    const pool = tenantPool(fixture.db.appUrl, { activityTag: true })
    expect(await namesDuringAndAfter(pool, (p) => p.query(held))).toEqual({ during: `billing-api tenant:${A()}`, after: 'billing-api' })
  })

  test('pool.transaction: the tag lasts the whole transaction', async () => {
    const pool = tenantPool(fixture.db.appUrl, { activityTag: 'sha256' })
    const digest = createHash('sha256').update(A()).digest('hex').slice(0, 16)
    const names = await namesDuringAndAfter(pool, (p) =>
      p.transaction(async (tx) => {
        await tx.query('SELECT 1')
        await tx.query(held)
      }),
    )
    expect(names).toEqual({ during: `billing-api tenant:${digest}`, after: 'billing-api' })
  })

  test('off by default: nothing changes', async () => {
    const pool = tenantPool(fixture.db.appUrl, {})
    expect(await namesDuringAndAfter(pool, (p) => p.query(held))).toEqual({ during: 'billing-api', after: 'billing-api' })
  })

  test('through PgBouncer (transaction mode): the tag never reaches another client of the same server connection', async () => {
    const pool = tenantPool(bouncer!.url(fixture.db.appUrl), { activityTag: true })
    const other = new pg.Client({ connectionString: bouncer!.url(fixture.db.appUrl), application_name: 'reporting' })
    await other.connect()
    try {
      for (let i = 0; i < 5; i++) {
        const { rows } = await withTenant(A(), () => pool.query(`SELECT current_setting('application_name') AS name`))
        expect(rows[0].name).toBe(`billing-api tenant:${A()}`)
        // One server connection: the other client runs on the same backend right after.
        expect((await other.query(`SELECT current_setting('application_name') AS name`)).rows[0].name).toBe('reporting')
        expect((await other.query('SHOW application_name')).rows[0].application_name).toBe('reporting')
      }
    } finally {
      await other.end()
    }
  })

  test('a tag function that gives non-ASCII is refused before anything is sent', async () => {
    const pool = tenantPool(fixture.db.appUrl, { activityTag: () => 'tenant ünïcode' })
    await expect(withTenant(A(), () => pool.query('SELECT 1'))).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    expect(() => createTenantPool({ connectionString: fixture.db.appUrl }, { activityTag: 'yes' as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    )
  })
})
