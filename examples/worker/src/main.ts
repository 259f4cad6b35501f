// Runs the example worker from environment variables:
//   DATABASE_URL  the application role (member of tenantscope_app; not superuser, not BYPASSRLS)
//   QUEUE_URL     pg-boss's connection (a role that may create the pgboss schema)
import { startWorker } from './worker.js'

const { DATABASE_URL, QUEUE_URL } = process.env
if (!DATABASE_URL || !QUEUE_URL) {
  console.error('Set DATABASE_URL (the application role) and QUEUE_URL (pg-boss).')
  process.exit(2)
}
const worker = await startWorker({ databaseUrl: DATABASE_URL, queueUrl: QUEUE_URL, log: (line) => console.log(line) })
console.log('example worker waiting for invoice-report jobs')
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void worker.close().then(() => process.exit(0)))
}
