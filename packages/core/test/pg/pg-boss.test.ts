import { randomUUID } from 'node:crypto'
import { createTenantPool, type TenantPool, withTenant } from '@tenantscope/core'
import { JobTenantError, sendTenantJob, tenantJob } from '@tenantscope/core/jobs'
import pg from 'pg'
import PgBoss from 'pg-boss'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { useFixture } from './_fixtures.js'

interface ReportJob {
  tenantId: string
  label: string
}

const waiting = { timeout: 15_000, interval: 100 }

describe('pg-boss jobs run for the tenant that enqueued them', () => {
  const fixture = useFixture()
  let boss: PgBoss
  let pool: TenantPool
  let queueClient: pg.Client
  const queue = `report-${randomUUID().slice(0, 8)}`
  const handled: { label: string; tenant: string; names: string[] }[] = []

  beforeAll(async () => {
    await fixture.admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'A1'), ($1, 'A2'), ($2, 'B1')`, [
      fixture.tenantA,
      fixture.tenantB,
    ])
    pool = createTenantPool({ connectionString: fixture.db.appUrl, max: 2 })
    // The queue's own tables live in the pgboss schema, reached over a
    // separate (here: admin) connection; tenant data only through the pool.
    // A single client we end ourselves (see _tenant-database.ts).
    queueClient = new pg.Client({ connectionString: fixture.db.adminUrl })
    await queueClient.connect()
    boss = new PgBoss({ db: { executeSql: (text, values) => queueClient.query(text, values) }, supervise: false, schedule: false })
    boss.on('error', () => undefined)
    await boss.start()
    await boss.createQueue(queue)
    await boss.work<ReportJob>(
      queue,
      { pollingIntervalSeconds: 0.5 },
      tenantJob(async (job: PgBoss.Job<ReportJob>) => {
        const { rows } = await pool.query('SELECT name, current_setting($1, true) AS tenant FROM projects ORDER BY name', [
          'app.current_tenant',
        ])
        handled.push({ label: job.data.label, tenant: rows[0]?.tenant ?? '', names: rows.map((row) => row.name) })
      }),
    )
  })
  afterAll(async () => {
    await boss?.stop({ graceful: false, wait: true })
    await queueClient?.end()
    await pool?.end()
  })

  test("sendTenantJob captures the tenant; the worker sees only that tenant's rows", async () => {
    await withTenant(fixture.tenantA, () => sendTenantJob(boss, queue, { label: 'for A' }))
    await withTenant(fixture.tenantB, () => sendTenantJob(boss, queue, { label: 'for B' }))
    await vi.waitUntil(() => handled.length >= 2, waiting)
    expect(handled.find((job) => job.label === 'for A')).toEqual({ label: 'for A', tenant: fixture.tenantA, names: ['A1', 'A2'] })
    expect(handled.find((job) => job.label === 'for B')).toEqual({ label: 'for B', tenant: fixture.tenantB, names: ['B1'] })
  })

  test('a job sent without a tenant, or with a malformed one, fails and is never handled', async () => {
    const before = handled.length
    const missing = await boss.send(queue, { label: 'no tenant' }, { retryLimit: 0 })
    const malformed = await boss.send(queue, { label: 'bad tenant', tenantId: "x' OR '1'='1" }, { retryLimit: 0 })
    for (const id of [missing!, malformed!]) {
      const job = await vi.waitUntil(async () => {
        const found = await boss.getJobById(queue, id)
        return found?.state === 'failed' ? found : undefined
      }, waiting)
      expect(job.output).toMatchObject({ name: 'JobTenantError' })
    }
    expect(handled.length).toBe(before)
    expect(handled.map((job) => job.label)).not.toContain('no tenant')
  })

  test('enqueueing outside withTenant throws and sends nothing', async () => {
    await expect(sendTenantJob(boss, queue, { label: 'orphan' })).rejects.toMatchObject({ code: 'TENANT_CONTEXT_MISSING' })
    expect(JobTenantError.is(new Error('x'))).toBe(false)
  })
})
