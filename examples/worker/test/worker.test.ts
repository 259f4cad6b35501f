import { randomUUID } from 'node:crypto'
import { withTenant } from '@tenantscope/core'
import { sendTenantJob } from '@tenantscope/core/jobs'
import { REPORT_QUEUE, type RunningWorker, startWorker } from '@tenantscope/example-worker'
import { createTestDatabase, type TestDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import type PgBoss from 'pg-boss'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'

describe('example worker: per-tenant invoice reports from pg-boss', () => {
  let db: TestDatabase
  let admin: pg.Client
  let worker: RunningWorker
  let boss: PgBoss
  const acme = randomUUID()
  const globex = randomUUID()

  const finished = (id: string) =>
    vi.waitUntil(
      async () => {
        const job = await boss.getJobById(REPORT_QUEUE, id)
        return job && (job.state === 'completed' || job.state === 'failed') ? job : undefined
      },
      { timeout: 20_000, interval: 100 },
    )

  beforeAll(async () => {
    db = await createTestDatabase()
    admin = new pg.Client({ connectionString: db.adminUrl })
    await admin.connect()
    await admin.query(`INSERT INTO tenants (id, name) VALUES ($1, 'Acme'), ($2, 'Globex')`, [acme, globex])
    const seed = async (tenant: string, project: string, invoices: [number, string, string][]) => {
      const { rows } = await admin.query('INSERT INTO projects (tenant_id, name) VALUES ($1, $2) RETURNING id', [tenant, project])
      for (const [amount, status, currency] of invoices) {
        await admin.query('INSERT INTO invoices (tenant_id, project_id, amount_cents, status, currency) VALUES ($1, $2, $3, $4, $5)', [
          tenant,
          rows[0].id,
          amount,
          status,
          currency,
        ])
      }
    }
    await seed(acme, 'Rocket', [
      [10_000, 'paid', 'EUR'],
      [2_500, 'sent', 'EUR'],
      [700, 'draft', 'USD'],
    ])
    await seed(acme, 'Anvil', [[1_000, 'paid', 'EUR']])
    await seed(globex, 'Hammock', [[99_999, 'paid', 'EUR']])
    worker = await startWorker({ databaseUrl: db.appUrl, queueUrl: db.adminUrl, pollingIntervalSeconds: 0.5 })
    boss = worker.boss // the producer side: the same queue, as the API would use it
  })
  afterAll(async () => {
    await worker?.close()
    await admin?.end()
    await db?.drop() // waits for the worker's closing connections before it forces
  })

  test('each job reports on its own tenant only', async () => {
    const acmeJob = await withTenant(acme, () => sendTenantJob(boss, REPORT_QUEUE, {}))
    const globexJob = await withTenant(globex, () => sendTenantJob(boss, REPORT_QUEUE, {}))
    const [a, g] = await Promise.all([finished(acmeJob!), finished(globexJob!)])
    expect(a.state).toBe('completed')
    expect(a.output).toMatchObject({
      tenantId: acme,
      invoiceCount: 4,
      totals: { paid: 11_000, sent: 2_500, draft: 700, all: 14_200 },
      byProject: [
        { projectName: 'Anvil', invoiceCount: 1, totalCents: 1_000 },
        { projectName: 'Rocket', invoiceCount: 3, totalCents: 13_200 },
      ],
    })
    expect(g.output).toMatchObject({ tenantId: globex, invoiceCount: 1, totals: { all: 99_999 }, byProject: [{ projectName: 'Hammock' }] })
  })

  test('a currency filter travels in the payload', async () => {
    const id = await withTenant(acme, () => sendTenantJob(boss, REPORT_QUEUE, { currency: 'USD' }))
    expect((await finished(id!)).output).toMatchObject({ currency: 'USD', invoiceCount: 1, totals: { all: 700 } })
  })

  test('a job without a tenant, or with a forged malformed one, fails and reports nothing', async () => {
    const missing = await boss.send(REPORT_QUEUE, {}, { retryLimit: 0 })
    const malformed = await boss.send(REPORT_QUEUE, { tenantId: 'all' }, { retryLimit: 0 })
    for (const id of [missing!, malformed!]) {
      const job = await finished(id)
      expect(job.state).toBe('failed')
      expect(job.output).toMatchObject({ name: 'JobTenantError' })
      expect(job.output).not.toHaveProperty('totals')
    }
  })

  test('the worker reads tenant data as the application role, not a bypassing one', async () => {
    const { rows } = await admin.query(
      `SELECT DISTINCT r.rolname, r.rolsuper, r.rolbypassrls FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid
        WHERE a.datname = current_database() AND a.application_name = 'tenantscope-example-worker'`,
    )
    expect(rows).toEqual([{ rolname: 'tenantscope_test_app', rolsuper: false, rolbypassrls: false }])
  })
})
