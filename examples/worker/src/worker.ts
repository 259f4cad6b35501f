import { tenantJob } from '@tenantscope/core/jobs'
import { tenantDrizzle } from '@tenantscope/drizzle'
import { drizzle } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import PgBoss from 'pg-boss'
import { type InvoiceReport, invoiceReport } from './invoice-report.js'

/** The queue the API example's POST /reports sends to. */
export const REPORT_QUEUE = 'invoice-report'

export interface ReportJobData {
  tenantId: string
  currency?: string
}

export interface WorkerOptions {
  /** The application role's connection string: NOT a superuser or BYPASSRLS role. */
  databaseUrl: string
  /**
   * A tenant-scoped pool to run the reports on instead of one made from
   * databaseUrl: a TenantRouter from @tenantscope/router serves tenants of
   * every kind (shared tables, own schema, own database) with the same code.
   * The worker does not end it.
   */
  pool?: pg.Pool
  /** Where pg-boss keeps its queue (its own schema). */
  queueUrl: string
  /** pg-boss polling interval. @default 2 */
  pollingIntervalSeconds?: number
  log?: (line: string) => void
}

export interface RunningWorker {
  boss: PgBoss
  close(): Promise<void>
}

/**
 * Consumes REPORT_QUEUE. Each job runs inside withTenant for the tenant that
 * was stamped into it when it was enqueued; a job without a valid tenant
 * fails (JobTenantError) and is never run under any tenant.
 */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const log = options.log ?? (() => undefined)
  const own = options.pool === undefined
  const pool =
    options.pool ?? new pg.Pool({ connectionString: options.databaseUrl, max: 4, application_name: 'tenantscope-example-worker' })
  // Idle connections closed by the server are reported, not fatal.
  if (own) pool.on('error', (error) => log(`database: ${error.message}`))
  const db = tenantDrizzle(drizzle(pool))
  const boss = new PgBoss({ connectionString: options.queueUrl, max: 2, application_name: 'tenantscope-example-worker-queue' })
  boss.on('error', (error) => log(`pg-boss: ${String(error)}`))
  await boss.start()
  await boss.createQueue(REPORT_QUEUE)

  const handle = tenantJob(async (job: PgBoss.Job<ReportJobData>): Promise<InvoiceReport> => {
    const report = await invoiceReport(db, job.data.currency ? { currency: job.data.currency } : {})
    log(`report ${job.id}: ${report.invoiceCount} invoices`)
    return report
  })
  await boss.work<ReportJobData>(
    REPORT_QUEUE,
    { pollingIntervalSeconds: options.pollingIntervalSeconds ?? 2, batchSize: 1 },
    async (jobs) => {
      // pg-boss stores the handler's result as the job's output.
      const [report] = await handle(jobs)
      return report
    },
  )

  return {
    boss,
    async close() {
      await boss.stop({ graceful: true, wait: true, timeout: 5_000 })
      if (own) await pool.end()
    },
  }
}
