// pnpm --filter @tenantscope/bench bench:citus [--slice-ms N] [--proxy-slice-ms N] [--rounds N] [--pieces N] [--concurrency 1,8] [--out DIR]
//
// On a 3-node Citus cluster (coordinator + 2 workers, 32 shards), on loopback
// and through the 1 ms proxy, at each concurrency, for a point read by key and
// the ten most recent rows:
// - raw: pg with an explicit tenant_id = $1, no RLS (a BYPASSRLS role), no
//   transaction: the limit;
// - raw in a transaction: the same statement, literal values, as
//   `BEGIN; statement; COMMIT` in one simple-protocol message (one round trip),
//   BYPASSRLS, no setter: a minimal client's floor for anything that has to
//   reach the workers transaction-locally (Citus forwards SET LOCAL only inside
//   a transaction block, and opens one on the worker for it);
// - raw with the setter: as the app role (RLS on), what tenantscope's Citus
//   mode sends, `BEGIN; SELECT set_config('citus.propagate_set_commands', ...),
//   tenantscope.set_local(...); statement; COMMIT`, in one simple-protocol
//   message: the cost of the setter over the floor, without tenantscope;
// - routed: tenantscope in Citus mode, with tenant_id = $1 in the query (what
//   tenantDrizzle adds), RLS on;
// - routed, prepareStatements: the same pool option that names the statement
//   (parsed and planned once per connection; Citus keeps its router plan);
// - raw pg, named statement (information, not a baseline): raw with pg's own
//   `name`, what a minimal client that prepares its statements gets;
// - fan-out (highest concurrency only): Citus mode, RLS alone (no tenant_id in
//   the query): Citus sends it to every shard.
// Beside throughput, CPU per operation: the benchmark process (client and the
// proxy's thread) and the three PostgreSQL servers (every process of each,
// from /proc). Then, on loopback, one big tenant's point reads and inserts
// before and while its isolated shard moves to the other worker (block_writes).
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
import { type ServerCpu, serverCpu } from './cluster-cpu.js'
import { type Measured, measureRound } from './interleaved-round.js'
import { type LatencyProxy, startLatencyProxy } from './latency-proxy.js'
import { runClosedLoop, type Sample, summarize } from './runner.js'
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

const MODES = ['raw', 'raw-named', 'raw-tx', 'raw-setter', 'routed', 'routed-prepared', 'fan-out'] as const
type ModeName = (typeof MODES)[number]
const LABELS: Record<ModeName, string> = {
  raw: 'raw pg, explicit tenant_id, no RLS (the limit)',
  'raw-named': 'raw pg, explicit tenant_id, no RLS, named statement (information)',
  'raw-tx': 'raw pg in BEGIN/COMMIT, one round trip, no RLS (the floor)',
  'raw-setter': 'raw pg in BEGIN/COMMIT with the Citus setter, one round trip, RLS on',
  routed: 'tenantscope Citus mode, routed',
  'routed-prepared': 'tenantscope Citus mode, routed, prepareStatements',
  'fan-out': 'Citus mode, RLS alone (fan-out)',
}

// The bench's own uuids, spliced in for the simple-protocol floor (it takes no parameters).
const inline = (q: Query) => q.text.replace(/\$(\d+)/g, (_, n: string) => `'${String(q.values[Number(n) - 1])}'`)

async function measure(
  label: string,
  operation: () => Promise<unknown>,
  concurrency: number,
  sliceMs: number,
  servers: ServerCpu | undefined,
): Promise<Measured> {
  const before = servers?.read()
  const client = process.cpuUsage()
  const sample = await runClosedLoop(label, operation, concurrency, sliceMs)
  const used = process.cpuUsage(client)
  const after = servers?.read()
  const n = Math.max(1, sample.operations)
  const serversUs = before && after ? after.reduce((sum, value, i) => sum + value - before[i]!, 0) / n : Number.NaN
  return { sample, clientUs: (used.user + used.system) / n, serversUs }
}

const clients = (n: number) => `${n} client${n === 1 ? '' : 's'}`
const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length / 2
  return sorted.length % 2 === 1 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}
const rate = (s: Sample) => s.operations / s.elapsedMs
/** Round by round (the slices of one round ran back to back): median [min–max]. */
function ratios(mode: readonly Measured[], baseline: readonly Measured[]): string {
  const values = mode.map((m, round) => rate(m.sample) / rate(baseline[round]!.sample)).sort((a, b) => a - b)
  return `${median(values).toFixed(2)} [${values[0]!.toFixed(2)}–${values.at(-1)!.toFixed(2)}]`
}

/** The target through the proxy: met only when the lowest round clears it. */
function verdict(label: string, mode: readonly Measured[], baseline: readonly Measured[]): string {
  const lowest = Math.min(...mode.map((m, round) => rate(m.sample) / rate(baseline[round]!.sample)))
  return `- ${label}: ${ratios(mode, baseline)} (lowest round ${lowest.toFixed(3)}): ${lowest >= 0.9 ? '**met**' : '**not met**'}`
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((arg, index) => !(index === 0 && arg === '--')),
    options: {
      'slice-ms': { type: 'string' },
      'proxy-slice-ms': { type: 'string' },
      rounds: { type: 'string' },
      pieces: { type: 'string' },
      concurrency: { type: 'string' },
      'latency-ms': { type: 'string' },
      out: { type: 'string' },
    },
  })
  const sliceMs = Number(values['slice-ms'] ?? 1000)
  // Through the proxy one client makes ~350 operations a second: 1 s slices
  // held too few for a stable ratio, so the proxy's slices are longer.
  const proxySliceMs = Number(values['proxy-slice-ms'] ?? 4000)
  const rounds = Number(values.rounds ?? 5)
  // Each mode's slice of a round is measured in this many pieces, the modes
  // taking turns (see measureRound).
  const pieces = Number(values.pieces ?? 8)
  const concurrencies = (values.concurrency ?? '1,8').split(',').map(Number)
  const highest = Math.max(...concurrencies)
  const latencyMs = Number(values['latency-ms'] ?? 1)
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
  const outDir = resolve(repoRoot, values.out ?? 'docs')

  const cluster = await startCitusCluster(log)
  let proxy: LatencyProxy | undefined
  const lines: string[] = []
  const summary: string[] = []
  const verdicts: string[] = []
  const floors: string[] = []
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
    const servers = await serverCpu([cluster.coordinator.adminUrl, cluster.workers[0].adminUrl, cluster.workers[1].adminUrl])
    const pick = (max: number) => Math.floor(Math.random() * max)

    for (const network of ['loopback', 'proxy'] as const) {
      let appUrl = db.appUrl
      let bypassUrl = db.maintenanceUrl
      if (network === 'proxy') {
        proxy = await startLatencyProxy({ host: '127.0.0.1', port: cluster.coordinator.port }, latencyMs)
        appUrl = proxy.url(appUrl)
        bypassUrl = proxy.url(bypassUrl)
      }
      try {
        for (const concurrency of concurrencies) {
          const raw = new pg.Pool({ connectionString: bypassUrl, max: concurrency })
          const app = new pg.Pool({ connectionString: appUrl, max: concurrency })
          const routed = createTenantPool({ connectionString: appUrl, max: concurrency }, { citus: true })
          const routedPrepared = createTenantPool({ connectionString: appUrl, max: concurrency }, { citus: true, prepareStatements: true })
          try {
            const run: Record<ModeName, (shape: Shape) => Promise<unknown>> = {
              raw: (shape) => {
                const q = shape.routed(tenants[pick(tenants.length)]!, pick)
                return raw.query(q.text, q.values)
              },
              'raw-named': (shape) => {
                const q = shape.routed(tenants[pick(tenants.length)]!, pick)
                return raw.query({ name: `bench_${shape.name}`, text: q.text, values: q.values })
              },
              'raw-tx': (shape) => raw.query(`BEGIN; ${inline(shape.routed(tenants[pick(tenants.length)]!, pick))}; COMMIT`),
              'raw-setter': (shape) => {
                const t = tenants[pick(tenants.length)]!
                const setter = `SELECT set_config('citus.propagate_set_commands', 'local', true), tenantscope.set_local('app.current_tenant', '${t.id}')`
                return app.query(`BEGIN; ${setter}; ${inline(shape.routed(t, pick))}; COMMIT`)
              },
              routed: (shape) => {
                const t = tenants[pick(tenants.length)]!
                const q = shape.routed(t, pick)
                return withTenant(t.id, () => routed.query(q.text, q.values))
              },
              'routed-prepared': (shape) => {
                const t = tenants[pick(tenants.length)]!
                const q = shape.routed(t, pick)
                return withTenant(t.id, () => routedPrepared.query(q.text, q.values))
              },
              'fan-out': (shape) => {
                const t = tenants[pick(tenants.length)]!
                const q = shape.fanOut(t, pick)
                return withTenant(t.id, () => routed.query(q.text, q.values))
              },
            }
            // Every routed mode must see the tenant's row: a setter that did not reach the worker reads 0 rows, cheaply.
            for (const mode of ['raw', 'raw-named', 'raw-tx', 'raw-setter', 'routed', 'routed-prepared'] as const) {
              const result = (await run[mode](SHAPES[0]!)) as pg.QueryResult | pg.QueryResult[]
              // A script's results: BEGIN, [setter,] statement, COMMIT.
              const rowCount = Array.isArray(result) ? result.at(-2)?.rowCount : result.rowCount
              if (rowCount !== 1) throw new Error(`${mode}: expected the tenant's row, got ${rowCount} rows`)
            }
            const modes = MODES.filter((mode) => mode !== 'fan-out' || concurrency === highest)
            for (const shape of SHAPES) {
              for (const mode of modes) await runClosedLoop(`warm-up ${mode}`, () => run[mode](shape), concurrency, 200)
              const measured = new Map<ModeName, Measured[]>()
              const slice = network === 'proxy' ? proxySliceMs : sliceMs
              for (let round = 0; round < rounds; round++) {
                const results = await measureRound(
                  modes,
                  (mode, durationMs) => measure(`${mode} ${shape.name}`, () => run[mode](shape), concurrency, durationMs, servers),
                  slice,
                  pieces,
                  round,
                )
                for (const [mode, m] of results) measured.set(mode, [...(measured.get(mode) ?? []), m])
              }
              const rawRuns = measured.get('raw')!
              for (const mode of modes) {
                const runs = measured.get(mode)!
                const s = summarize(runs.map((m) => m.sample))
                const cpu = `${median(runs.map((m) => m.clientUs)).toFixed(0)} | ${median(runs.map((m) => m.serversUs)).toFixed(0)}`
                const line =
                  `| ${network} | ${concurrency} | ${shape.label} | ${LABELS[mode]} | ${Math.round(s.throughput)} | ` +
                  `${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${ratios(runs, rawRuns)} | ${cpu} |`
                lines.push(line)
                log(line)
              }
              const routedRuns = measured.get('routed')!
              const preparedRuns = measured.get('routed-prepared')!
              if (network === 'proxy') {
                for (const [mode, runs] of [
                  ['routed', routedRuns],
                  ['routed-prepared', preparedRuns],
                ] as const) {
                  verdicts.push(verdict(`${clients(concurrency)}, ${shape.label}, ${LABELS[mode]}`, runs, rawRuns))
                }
                // What any client reaches that sends the messages this design
                // requires (BEGIN, the SET LOCAL setter, the statement, COMMIT):
                // where it is below the target, no implementation meets it here.
                floors.push(
                  `- ${clients(concurrency)}, ${shape.label}: ${LABELS['raw-setter']} ÷ raw ` +
                    `${ratios(measured.get('raw-setter')!, rawRuns)}; without the setter and RLS ${ratios(measured.get('raw-tx')!, rawRuns)}`,
                )
              }
              const vsFloor =
                `routed ÷ floor ${ratios(routedRuns, measured.get('raw-tx')!)}, ` +
                `routed ÷ raw with the setter ${ratios(routedRuns, measured.get('raw-setter')!)}`
              const vsFanOut = measured.has('fan-out') ? `; routed ÷ fan-out **${ratios(routedRuns, measured.get('fan-out')!)}**` : ''
              const line = `| ${network} | ${concurrency} | ${shape.label} | ${vsFloor}${vsFanOut} | | | | | | |`
              lines.push(line)
              summary.push(
                `- ${network}, ${clients(concurrency)}, ${shape.label}: routed ÷ raw ` +
                  `**${ratios(routedRuns, rawRuns)}**, with prepareStatements **${ratios(preparedRuns, rawRuns)}**, ` +
                  `floor ÷ raw ${ratios(measured.get('raw-tx')!, rawRuns)}, ${vsFloor}${vsFanOut}`,
              )
              log(line)
            }
          } finally {
            await Promise.all([raw.end(), app.end(), routed.end(), routedPrepared.end()])
          }
        }
      } finally {
        await proxy?.close()
        proxy = undefined
      }
    }
    const moveLines = await measureMove(db.adminUrl, db.appUrl, highest)
    const cpu = cpus()
    const markdown = [
      '# Benchmarks on Citus',
      '',
      'Generated by `pnpm --filter @tenantscope/bench bench:citus`; see [citus.md](citus.md) for what the modes are.',
      '',
      `- ${cpu.length} × ${cpu[0]?.model ?? 'CPU'}; Node.js ${process.version}; ` +
        `Citus ${cluster.citusVersion} on PostgreSQL 15, coordinator and two workers on this machine`,
      `- ${tenants.length} tenants × 100 projects, ${rows[0].shard_count} shards; ${concurrencies.join(' and ')} closed-loop clients; ` +
        `${rounds} rounds; in each round every mode runs ${sliceMs} ms on loopback and ${proxySliceMs} ms through the proxy, ` +
        `in ${pieces} pieces, the modes taking turns piece by piece (their order rotated every turn)`,
      `- proxy: ${latencyMs} ms each way between the client and the coordinator (not between the nodes)`,
      '- Method change since the first Citus report: the proxy slices were 1000 ms, about 340 operations for one client, ' +
        'too few for a stable ratio; they are now longer (the same for every mode, baselines unchanged). ' +
        'Two modes were added: tenantscope with `prepareStatements`, and raw pg with a named statement (information: ' +
        'the target compares against raw pg as the issue defines it, unnamed). ' +
        "Since then each mode's slice of a round is measured in pieces, the modes taking turns, where it was one block per mode: " +
        'the modes of one round were measured up to half a minute apart, and a slow stretch of the shared host fell on one of them only. ' +
        'The time per mode and round is unchanged.',
      '- × raw and the other ratios: throughput ratio round by round, median [min–max] over the rounds',
      '- CPU µs/op: median over the rounds of CPU time per operation, of the benchmark process (client and the proxy thread) ' +
        'and of the three PostgreSQL servers together (all their processes, from /proc)',
      '',
      '## Target: routed ≥ 0.9× raw through the proxy',
      '',
      'Met only when the whole [min–max] spread over the rounds clears 0.9.',
      '',
      ...verdicts,
      '',
      'The same ratio for a minimal client without tenantscope that sends what the Citus mode must send (the floor of this design on this machine):',
      '',
      ...floors,
      '',
      '## Ratios',
      '',
      ...summary,
      '',
      '## Every mode',
      '',
      '| network | clients | query | mode | ops/s | p50 ms | p99 ms | × raw | client CPU µs/op | servers CPU µs/op |',
      '| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...lines,
      '',
      '## A big tenant while its shard moves',
      '',
      'One tenant with 200 000 projects, isolated to its own shard, then moved to the other worker with `moveTenant` (block_writes),',
      `on loopback; ${highest} clients for that tenant, half doing routed point reads, half inserts.`,
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
