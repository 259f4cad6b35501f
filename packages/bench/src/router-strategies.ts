// pnpm --filter @tenantscope/bench bench:router [<latencyMs> <seconds per slice>]
// The router's schema and database strategies against raw pg sending
// schema-qualified SQL to the right database, through a proxy adding
// `latencyMs` each way (default 1 ms). Target (issue 15): ≥ 0.9× raw.
// Also: the cost of a database tenant's first (cold) query.
import { randomBytes, randomUUID } from 'node:crypto'
import { withTenant } from '@tenantscope/core'
import { createTenant, createTenantDirectory, createTenantRouter, type TenantEntry } from '@tenantscope/router'
import { APP_ROLE, withClient } from '@tenantscope/test-harness'
import pg from 'pg'
import { openDatabases } from './database.js'
import { startLatencyProxy } from './latency-proxy.js'
import { medianRatio, rotation, runClosedLoop, type Sample, summarize } from './runner.js'

// pnpm may pass a literal '--' before the arguments.
const args = process.argv.slice(2).filter((arg) => arg !== '--')
const latencyMs = Number(args[0] ?? 1)
const sliceMs = Number(args[1] ?? 2) * 1000
const ROUNDS = 3
const CONCURRENCY = 8
const SCHEMA_TENANTS = 20
const DATABASE_TENANTS = 4
const log = (line: string) => process.stderr.write(`${line}\n`)

const databases = await openDatabases(log)
const prefix = `br${randomBytes(3).toString('hex')}_`
const target = new URL(databases.server.adminUrl)
const proxy = await startLatencyProxy({ host: target.hostname, port: Number(target.port || 5432) }, latencyMs)
const closers: Array<() => Promise<unknown>> = []
try {
  const primary = await databases.create('router')
  const admin = new pg.Pool({ connectionString: primary.adminUrl, max: 4 })
  closers.push(() => admin.end())
  const entries = new Map<string, TenantEntry>()
  const items = [
    {
      name: '0000_items',
      sql: "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL); INSERT INTO items VALUES (1, 'one')",
      checksum: 'x',
      statements: ['CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)', "INSERT INTO items VALUES (1, 'one')"],
    },
  ]
  const schemaTenants: Array<{ id: string; schema: string }> = []
  for (let i = 0; i < SCHEMA_TENANTS; i++) {
    const id = randomUUID()
    const entry = await createTenant(admin, {
      tenantId: id,
      strategy: 'schema',
      schema: `tenant_${i}`,
      role: `${prefix}t${i}`,
      gateRole: `${prefix}gate`,
      appRole: APP_ROLE.name,
      migrations: items,
    })
    entries.set(id, entry)
    schemaTenants.push({ id, schema: `tenant_${i}` })
  }
  const databaseTenants: Array<{ id: string; adminUrl: string; appUrl: string }> = []
  for (let i = 0; i < DATABASE_TENANTS; i++) {
    const db = await databases.create(`d${i}`)
    await withClient(db.adminUrl, (c) => c.query(`${items[0]!.statements.join(';')}; GRANT SELECT ON items TO ${APP_ROLE.name}`))
    const id = randomUUID()
    entries.set(id, { tenantId: id, strategy: 'database', database: String(i), state: 'active' })
    databaseTenants.push({ id, adminUrl: proxy.url(db.adminUrl), appUrl: proxy.url(db.appUrl) })
  }

  const newRouter = () =>
    createTenantRouter({
      directory: createTenantDirectory((id) => entries.get(id)),
      pool: { connectionString: proxy.url(primary.appUrl), max: CONCURRENCY },
      databases: { connectionFor: (e) => databaseTenants[Number(e.database)]!.appUrl, maxConnections: CONCURRENCY, maxPerDatabase: 2 },
    })
  const router = newRouter()
  closers.push(() => router.end())
  const rawPrimary = new pg.Pool({ connectionString: proxy.url(primary.adminUrl), max: CONCURRENCY })
  closers.push(() => rawPrimary.end())
  const rawDatabases = databaseTenants.map((t) => new pg.Pool({ connectionString: t.adminUrl, max: 2 }))
  closers.push(() => Promise.all(rawDatabases.map((p) => p.end())))
  const pick = <T>(list: readonly T[]) => list[Math.floor(Math.random() * list.length)]!

  const modes: Record<string, () => Promise<unknown>> = {
    'raw pg, schema-qualified': () => rawPrimary.query(`SELECT name FROM ${pick(schemaTenants).schema}.items WHERE id = $1`, [1]),
    'router, schema tenants': () => withTenant(pick(schemaTenants).id, () => router.query(`SELECT name FROM items WHERE id = $1`, [1])),
    'raw pg, right database': () => pick(rawDatabases).query(`SELECT name FROM items WHERE id = $1`, [1]),
    'router, database tenants': () => withTenant(pick(databaseTenants).id, () => router.query(`SELECT name FROM items WHERE id = $1`, [1])),
  }
  for (const run of Object.values(modes)) await runClosedLoop('warm-up', run, CONCURRENCY, 300)
  const samples = new Map<string, Sample[]>(Object.keys(modes).map((name) => [name, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of rotation(Object.keys(modes), round))
      samples.get(name)!.push(await runClosedLoop(name, modes[name]!, CONCURRENCY, sliceMs))
  }

  // A database tenant's first query: its pool opens (connectionFor, connect, auth) before the statement.
  const cold: number[] = []
  const warm: number[] = []
  for (const tenant of databaseTenants) {
    const fresh = newRouter()
    let began = performance.now()
    await withTenant(tenant.id, () => fresh.query('SELECT 1'))
    cold.push(performance.now() - began)
    began = performance.now()
    await withTenant(tenant.id, () => fresh.query('SELECT 1'))
    warm.push(performance.now() - began)
    await fresh.end()
  }

  const lines = [
    `router strategies through a ${latencyMs} ms proxy, ${CONCURRENCY} workers, ${ROUNDS} rounds × ${sliceMs / 1000} s, ${databases.version.split(' on ')[0]}`,
  ]
  for (const [name, list] of samples) {
    const s = summarize(list)
    lines.push(`  ${name.padEnd(28)} ${s.throughput.toFixed(0).padStart(6)} q/s   p50 ${s.p50.toFixed(2)} ms   p99 ${s.p99.toFixed(2)} ms`)
  }
  lines.push(
    `  schema strategy / raw (median of rounds):   ${medianRatio(samples.get('router, schema tenants')!, samples.get('raw pg, schema-qualified')!).toFixed(2)}× (target ≥ 0.9×)`,
  )
  lines.push(
    `  database strategy / raw (median of rounds): ${medianRatio(samples.get('router, database tenants')!, samples.get('raw pg, right database')!).toFixed(2)}× (target ≥ 0.9×)`,
  )
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  lines.push(`  database tenant, first (cold) query: ${mean(cold).toFixed(1)} ms; next query: ${mean(warm).toFixed(1)} ms`)
  process.stdout.write(`${lines.join('\n')}\n`)
} finally {
  for (const close of closers.reverse()) await close().catch(() => undefined)
  await proxy.close()
  await databases.close()
  await withClient(databases.server.adminUrl, async (client) => {
    const { rows } = await client.query<{ rolname: string }>(`SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)`, [prefix])
    for (const { rolname } of rows) await client.query(`DROP ROLE ${pg.escapeIdentifier(rolname)}`)
  }).catch((error) => log(`role cleanup failed: ${String(error)}`))
}
