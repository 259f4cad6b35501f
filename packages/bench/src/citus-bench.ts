// pnpm --filter @tenantscope/bench bench:citus [--slice-ms N] [--rounds N] [--concurrency N] [--out DIR]
//
// On a 3-node Citus cluster (coordinator + 2 workers, 32 shards), on loopback
// and through the 1 ms proxy, for a point read by key and the ten most recent rows:
// - routed: tenantscope in Citus mode, with tenant_id = $1 in the query (what
//   tenantDrizzle adds), RLS on;
// - raw: pg with an explicit tenant_id = $1, no RLS (a BYPASSRLS role), no
//   transaction: the limit;
// - floor: tenantscope in Citus mode with the same routed query as the
//   BYPASSRLS role: the explicit transaction and the setter, without RLS;
// - fan-out: tenantscope in Citus mode, RLS alone (no tenant_id in the query):
//   Citus sends it to every shard.
// Then, on loopback, one big tenant's point reads and inserts before and while
// its isolated shard moves to the other worker (block_writes): p50/p99 of each.
// Writes docs/benchmarks-citus.md.
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createTenantPool, withTenant } from '@tenantscope/core'
import { createCitusDatabase, startCitusCluster } from '@tenantscope/test-harness'
import pg from 'pg'
import { isolateTenant, moveTenant } from 'tenantscope'
import { type LatencyProxy, startLatencyProxy } from './latency-proxy.js'
import { medianRatio, rotation, runClosedLoop, type Sample, summarize } from './runner.js'
import { seedWorkload, type Tenant } from './seed.js'

const log = (line: string) => process.stderr.write(`[bench:citus] ${line}\n`)

interface Query {
  text: string
  values: unknown[]
}
interface Shape {
  name: string
  label: string
  routed(tenant: Tenant, pick: (max: number) => number): Query
  fanOut(tenant: Tenant, pick: (max: number) => number): Query
}

const SHAPES: Shape[] = [
  {
    name: 'point',
    label: 'point read by key',
    routed: (t, pick) => ({
      text: 'SELECT id, name, created_at FROM projects WHERE tenant_id = $1 AND id = $2',
      values: [t.id, t.projectIds[pick(t.projectIds.length)]],
    }),
    fanOut: (t, pick) => ({
      text: 'SELECT id, name, created_at FROM projects WHERE id = $1',
      values: [t.projectIds[pick(t.projectIds.length)]],
    }),
  },
  {
    name: 'top10',
    label: 'ten most recent rows',
    routed: (t) => ({
      text: 'SELECT id, name, created_at FROM projects WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT 10',
      values: [t.id],
    }),
    fanOut: () => ({ text: 'SELECT id, name, created_at FROM projects ORDER BY created_at DESC LIMIT 10', values: [] }),
  },
]

const MODES = ['raw', 'routed', 'floor', 'fan-out'] as const
type ModeName = (typeof MODES)[number]
const LABELS: Record<ModeName, string> = {
  raw: 'raw pg, explicit tenant_id, no RLS (the limit)',
  routed: 'tenantscope Citus mode, routed',
  floor: 'Citus mode, routed, no RLS (floor: BEGIN, setter, COMMIT)',
  'fan-out': 'Citus mode, RLS alone (fan-out)',
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((arg, index) => !(index === 0 && arg === '--')),
    options: {
      'slice-ms': { type: 'string' },
      rounds: { type: 'string' },
      concurrency: { type: 'string' },
      'latency-ms': { type: 'string' },
      out: { type: 'string' },
    },
  })
  const sliceMs = Number(values['slice-ms'] ?? 1000)
  const rounds = Number(values.rounds ?? 5)
  const concurrency = Number(values.concurrency ?? 8)
  const latencyMs = Number(values['latency-ms'] ?? 1)
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
  const outDir = resolve(repoRoot, values.out ?? 'docs')

  const cluster = await startCitusCluster(log)
  let proxy: LatencyProxy | undefined
  const lines: string[] = []
  try {
    const db = await createCitusDatabase(
      { coordinatorPort: cluster.coordinator.port, workerPorts: [cluster.workers[0].port, cluster.workers[1].port] },
      'tenantscope_bench_citus',
      { shardCount: 32 },
    )
    const tenants = await seedWorkload(db.adminUrl, 100, 100)
    const shards = await new pg.Pool({ connectionString: db.adminUrl, max: 1 })
    const { rows } = await shards.query(`SELECT shard_count FROM citus_tables WHERE table_name = 'projects'::regclass`)
    await shards.end()
    log(`${tenants.length} tenants × 100 projects on ${rows[0].shard_count} shards`)
    const pick = (max: number) => Math.floor(Math.random() * max)

    for (const network of ['loopback', 'proxy'] as const) {
      let appUrl = db.appUrl
      let bypassUrl = db.maintenanceUrl
      if (network === 'proxy') {
        proxy = await startLatencyProxy({ host: '127.0.0.1', port: cluster.coordinator.port }, latencyMs)
        appUrl = proxy.url(appUrl)
        bypassUrl = proxy.url(bypassUrl)
      }
      const raw = new pg.Pool({ connectionString: bypassUrl, max: concurrency })
      const routed = createTenantPool({ connectionString: appUrl, max: concurrency }, { citus: true })
      const floor = createTenantPool({ connectionString: bypassUrl, max: concurrency }, { citus: true })
      try {
        const run: Record<ModeName, (shape: Shape) => Promise<unknown>> = {
          raw: (shape) => {
            const q = shape.routed(tenants[pick(tenants.length)]!, pick)
            return raw.query(q.text, q.values)
          },
          routed: (shape) => {
            const t = tenants[pick(tenants.length)]!
            const q = shape.routed(t, pick)
            return withTenant(t.id, () => routed.query(q.text, q.values))
          },
          floor: (shape) => {
            const t = tenants[pick(tenants.length)]!
            const q = shape.routed(t, pick)
            return withTenant(t.id, () => floor.query(q.text, q.values))
          },
          'fan-out': (shape) => {
            const t = tenants[pick(tenants.length)]!
            const q = shape.fanOut(t, pick)
            return withTenant(t.id, () => routed.query(q.text, q.values))
          },
        }
        for (const shape of SHAPES) {
          for (const mode of MODES) await runClosedLoop(`warm-up ${mode}`, () => run[mode](shape), concurrency, 200)
          const samples = new Map<ModeName, Sample[]>()
          for (let round = 0; round < rounds; round++) {
            for (const mode of rotation(MODES, round)) {
              const sample = await runClosedLoop(`${mode} ${shape.name}`, () => run[mode](shape), concurrency, sliceMs)
              samples.set(mode, [...(samples.get(mode) ?? []), sample])
            }
          }
          for (const mode of MODES) {
            const s = summarize(samples.get(mode)!)
            const vsRaw = medianRatio(samples.get(mode)!, samples.get('raw')!)
            const numbers = `${Math.round(s.throughput)} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${vsRaw.toFixed(3)}`
            const line = `| ${network} | ${shape.label} | ${LABELS[mode]} | ${numbers} |`
            lines.push(line)
            log(line)
          }
          const routedVsFanOut = medianRatio(samples.get('routed')!, samples.get('fan-out')!)
          const routedVsFloor = medianRatio(samples.get('routed')!, samples.get('floor')!)
          const ratios = `routed ÷ fan-out: **${routedVsFanOut.toFixed(2)}×**; routed ÷ floor: ${routedVsFloor.toFixed(3)}`
          lines.push(`| ${network} | ${shape.label} | ${ratios} | | | | |`)
          log(`${network} ${shape.name}: routed ÷ fan-out ${routedVsFanOut.toFixed(2)}, routed ÷ floor ${routedVsFloor.toFixed(3)}`)
        }
      } finally {
        await Promise.all([raw.end(), routed.end(), floor.end()])
        await proxy?.close()
        proxy = undefined
      }
    }
    const moveLines = await measureMove(db.adminUrl, db.appUrl, concurrency)
    const cpu = cpus()
    const markdown = [
      '# Benchmarks on Citus',
      '',
      'Generated by `pnpm --filter @tenantscope/bench bench:citus`; see [citus.md](citus.md) for what the modes are.',
      '',
      `- ${cpu.length} × ${cpu[0]?.model ?? 'CPU'}; Node.js ${process.version}; ` +
        `Citus ${cluster.citusVersion} on PostgreSQL 15, coordinator and two workers on this machine`,
      `- ${tenants.length} tenants × 100 projects, ${rows[0].shard_count} shards; ${concurrency} closed-loop workers; ` +
        `${rounds} rounds of ${sliceMs} ms per mode, modes rotating each round`,
      `- proxy: ${latencyMs} ms each way between the client and the coordinator (not between the nodes)`,
      '',
      '| network | query | mode | ops/s | p50 ms | p99 ms | × raw (median of rounds) |',
      '| --- | --- | --- | ---: | ---: | ---: | ---: |',
      ...lines,
      '',
      '## A big tenant while its shard moves',
      '',
      'One tenant with 200 000 projects, isolated to its own shard, then moved to the other worker with `moveTenant` (block_writes),',
      `on loopback; ${concurrency} workers for that tenant, half doing routed point reads, half inserts.`,
      '',
      '| phase | operation | ops | p50 ms | p99 ms | max ms |',
      '| --- | --- | ---: | ---: | ---: | ---: |',
      ...moveLines,
      '',
    ].join('\n')
    await mkdir(outDir, { recursive: true })
    await writeFile(join(outDir, 'benchmarks-citus.md'), markdown)
    log(`wrote ${join(outDir, 'benchmarks-citus.md')}`)
  } finally {
    await proxy?.close()
    await cluster.stop()
  }
}

async function measureMove(adminUrl: string, appUrl: string, concurrency: number): Promise<string[]> {
  const admin = new pg.Pool({ connectionString: adminUrl, max: 3 })
  const pool = createTenantPool({ connectionString: appUrl, max: concurrency }, { citus: true })
  try {
    const { rows } = await admin.query<{ id: string }>(`INSERT INTO tenants (name) VALUES ('big') RETURNING id`)
    const big = rows[0]!.id
    await admin.query(`INSERT INTO projects (tenant_id, name) SELECT $1, 'big ' || g FROM generate_series(1, 200000) g`, [big])
    const ids = (await admin.query<{ id: string }>(`SELECT id FROM projects WHERE tenant_id = $1 LIMIT 1000`, [big])).rows.map((r) => r.id)
    await isolateTenant(admin, 'projects', big)
    await admin.query('VACUUM ANALYZE projects')
    const reads: number[] = []
    const writes: number[] = []
    let stop = false
    let n = 0
    const worker = async (w: number) => {
      while (!stop) {
        const began = performance.now()
        n++
        // Half the workers read, half write: a write blocked by the move does not hold up the reads.
        if (w % 2 === 0) {
          await withTenant(big, () => pool.query('SELECT name FROM projects WHERE tenant_id = $1 AND id = $2', [big, ids[n % ids.length]]))
          reads.push(performance.now() - began)
        } else {
          await withTenant(big, () => pool.query('INSERT INTO projects (tenant_id, name) VALUES ($1, $2)', [big, `during ${n}`]))
          writes.push(performance.now() - began)
        }
      }
    }
    const phase = async (name: string, during: () => Promise<void>): Promise<string[]> => {
      reads.length = 0
      writes.length = 0
      stop = false
      const workers = Array.from({ length: concurrency }, (_, w) => worker(w))
      const started = performance.now()
      await during()
      stop = true
      await Promise.all(workers)
      const seconds = ((performance.now() - started) / 1000).toFixed(1)
      return [row(`${name} (${seconds} s)`, 'point read', reads), row(`${name} (${seconds} s)`, 'insert', writes)]
    }
    const before = await phase('before the move', () => new Promise((resolve) => setTimeout(resolve, 3000)))
    const during = await phase('during the move', async () => {
      await moveTenant(admin, 'projects', big)
    })
    for (const line of [...before, ...during]) log(line)
    return [...before, ...during]
  } finally {
    await pool.end()
    await admin.end()
  }
}

function row(phase: string, operation: string, latencies: number[]): string {
  const sorted = [...latencies].sort((a, b) => a - b)
  const q = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : Number.NaN)
  const max = sorted.at(-1) ?? Number.NaN
  return `| ${phase} | ${operation} | ${sorted.length} | ${q(0.5).toFixed(2)} | ${q(0.99).toFixed(2)} | ${max.toFixed(2)} |`
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exitCode = 1
})
