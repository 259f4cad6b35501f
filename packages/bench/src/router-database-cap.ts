// pnpm --filter @tenantscope/bench bench:router-cap [<databases> <cap> <seconds>]
// The database strategy with many tenant databases under one connection cap
// (issue 15: 200 databases, a cap of 20): throughput and p99 for a load spread
// over every tenant, and the most connections the server saw (never above the cap).
import { randomUUID } from 'node:crypto'
import { withTenant } from '@tenantscope/core'
import { createTenantDirectory, createTenantRouter, type TenantEntry } from '@tenantscope/router'
import { withClient } from '@tenantscope/test-harness'
import { type BenchDatabase, openDatabases } from './database.js'
import { runClosedLoop, summarize } from './runner.js'

// pnpm may pass a literal '--' before the arguments.
const args = process.argv.slice(2).filter((arg) => arg !== '--')
const count = Number(args[0] ?? 200)
const cap = Number(args[1] ?? 20)
const seconds = Number(args[2] ?? 5)
const CONCURRENCY = 40
const log = (line: string) => process.stderr.write(`${line}\n`)

const databases = await openDatabases(log)
try {
  const started = performance.now()
  const dbs: BenchDatabase[] = []
  for (let i = 0; i < count; i++) dbs.push(await databases.create(`cap${i}`))
  log(`${count} databases created in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  const entries = new Map<string, TenantEntry>()
  const tenants = dbs.map((_, i) => {
    const id = randomUUID()
    entries.set(id, { tenantId: id, strategy: 'database', database: String(i), state: 'active' })
    return id
  })
  const router = createTenantRouter({
    directory: createTenantDirectory((id) => entries.get(id)),
    pool: { connectionString: dbs[0]!.appUrl, max: 1 },
    databases: { connectionFor: (entry) => dbs[Number(entry.database)]!.appUrl, maxConnections: cap, acquireTimeoutMillis: 60_000 },
  })
  const names = dbs.map((db) => db.name)
  let peakServer = 0
  let peakRouter = 0
  let sampling = true
  const sampler = withClient(databases.server.adminUrl, async (client) => {
    while (sampling) {
      const { rows } = await client.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ANY($1) AND backend_type = 'client backend'`,
        [names],
      )
      peakServer = Math.max(peakServer, rows[0].n)
      peakRouter = Math.max(peakRouter, router.databaseConnections)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })
  let next = 0
  const sample = await runClosedLoop(
    'database tenants',
    // Round-robin over every tenant: the worst case for a cap (each query likely needs a pool opened).
    () => withTenant(tenants[next++ % tenants.length]!, () => router.query('SELECT 1')),
    CONCURRENCY,
    seconds * 1000,
  )
  sampling = false
  await sampler
  await router.end()
  const s = summarize([sample])
  process.stdout.write(
    [
      `database strategy: ${count} tenant databases, cap ${cap} connections, ${CONCURRENCY} workers round-robin over all tenants, ${seconds} s`,
      `  ${s.throughput.toFixed(0)} q/s   p50 ${s.p50.toFixed(1)} ms   p99 ${s.p99.toFixed(1)} ms`,
      `  most connections seen by the server: ${peakServer}; reserved by the router: ${peakRouter} (cap ${cap})`,
    ].join('\n') + '\n',
  )
} finally {
  await databases.close()
}
