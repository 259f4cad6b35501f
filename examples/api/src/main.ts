// Runs the example API from environment variables:
//   DATABASE_URL  the application role (member of tenantscope_app; not superuser, not BYPASSRLS)
//   QUEUE_URL     optional: pg-boss's connection, enables /reports
//   JWT_SECRET    HS256 secret, at least 32 bytes
//   PORT          default 3000
import { startApi } from './server.js'

const { DATABASE_URL, QUEUE_URL, JWT_SECRET, PORT, HOST } = process.env
if (!DATABASE_URL || !JWT_SECRET) {
  console.error('Set DATABASE_URL (the application role) and JWT_SECRET (at least 32 bytes).')
  process.exit(2)
}
const api = await startApi({
  databaseUrl: DATABASE_URL,
  queueUrl: QUEUE_URL,
  jwtSecret: JWT_SECRET,
  port: Number(PORT ?? 3000),
  host: HOST,
})
console.log(`example API listening on ${api.url}`)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void api.close().then(() => process.exit(0)))
}
