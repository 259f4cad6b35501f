import { mkdir, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { cpus, platform, release, totalmem } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseOptions } from './args.js'
import { type BreakdownRow, runBreakdown } from './breakdown.js'
import { renderChart } from './chart.js'
import { openDatabases } from './database.js'
import { type LatencyProxy, startLatencyProxy } from './latency-proxy.js'
import { createModes, MODE_LABELS } from './modes.js'
import { renderPostgresJsSection, runPostgresJsComparison } from './postgres-js-comparison.js'
import { type CellResult, readTargets, renderReport } from './report.js'
import { medianRatio, rotation, runSlice, type Sample, summarize } from './runner.js'
import { runScale, type ScaleResult } from './scale.js'
import { seedWorkload } from './seed.js'
import { createPicker, WORKLOADS } from './workloads.js'

const MODE_ORDER = ['raw', 'tenantscope', 'tenantscope-unnamed', 'drizzle', 'naive', 'session']
const ROUND_TRIPS: Record<string, string> = {
  raw: '1 round trip; a transaction: BEGIN, each statement, COMMIT',
  tenantscope: '1; a transaction: the setter rides with BEGIN',
  'tenantscope-unnamed': '1; same as tenantscope',
  drizzle: '1; same as tenantscope',
  naive: '4; a transaction: one more than raw',
  session: '2; a transaction: one more than raw',
}

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`)

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((arg, index) => !(index === 0 && arg === '--'))
  const options = parseOptions(args)
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
  const outDir = resolve(repoRoot, options.out)
  const workloads = options.workloads ? WORKLOADS.filter((w) => options.workloads!.includes(w.name)) : [...WORKLOADS]
  const started = performance.now()

  const databases = await openDatabases(log)
  let proxy: LatencyProxy | undefined
  try {
    log(`PostgreSQL: ${databases.version}`)
    const database = await databases.create('workload')
    const tenants = await seedWorkload(database.adminUrl, 100, 100)
    const pick = createPicker(tenants)
    log(`workload data: ${tenants.length} tenants × 100 projects, 3 invoices each`)

    const cells: CellResult[] = []
    const notes = new Set<string>()
    for (const network of options.networks) {
      let urls = { maintenanceUrl: database.maintenanceUrl, appUrl: database.appUrl }
      if (network === 'proxy') {
        const target = new URL(database.adminUrl)
        proxy = await startLatencyProxy({ host: target.hostname, port: Number(target.port || 5432) }, options.latencyMs)
        urls = { maintenanceUrl: proxy.url(urls.maintenanceUrl), appUrl: proxy.url(urls.appUrl) }
      }
      const set = await createModes(urls, Math.max(...options.concurrency))
      for (const note of set.notes) notes.add(note)
      try {
        for (const concurrency of options.concurrency) {
          for (const workload of workloads) {
            // Warm-up: plans, caches and the JIT, not measured.
            for (const mode of set.modes) await runSlice(mode, workload, pick, concurrency, Math.min(150, options.sliceMs))
            const samples = new Map<string, Sample[]>()
            for (let round = 0; round < options.rounds; round++) {
              for (const mode of rotation(set.modes, round)) {
                const sample = await runSlice(mode, workload, pick, concurrency, options.sliceMs)
                samples.set(mode.name, [...(samples.get(mode.name) ?? []), sample])
              }
            }
            const raw = summarize(samples.get('raw') ?? [])
            for (const mode of set.modes) {
              const summary = summarize(samples.get(mode.name) ?? [])
              cells.push({
                network,
                concurrency,
                workload: workload.name,
                mode: mode.name,
                summary,
                ratio: medianRatio(samples.get(mode.name) ?? [], samples.get('raw') ?? []),
              })
            }
            const line = set.modes
              .map((mode) => `${mode.name} ${cells.at(-set.modes.length + set.modes.indexOf(mode))!.ratio.toFixed(3)}`)
              .join(', ')
            log(`${network} c=${concurrency} ${workload.name}: raw ${Math.round(raw.throughput)} ops/s; ratios ${line}`)
          }
        }
      } finally {
        await set.close()
        await proxy?.close()
        proxy = undefined
      }
    }

    let breakdown: BreakdownRow[] | undefined
    if (options.networks.includes('loopback') && !options.quick) {
      breakdown = await runBreakdown(database, tenants, {
        sliceMs: options.sliceMs,
        rounds: Math.max(5, options.rounds),
        concurrencies: options.concurrency,
      })
      for (const row of breakdown)
        log(
          `breakdown c=${row.concurrency} ${row.name}: ${row.microseconds.toFixed(1)} µs/op (client CPU ${row.clientCpuMicroseconds.toFixed(1)}), ${row.ratio.toFixed(3)} × raw`,
        )
    }

    let scale: ScaleResult | undefined
    if (options.scale) {
      scale = await runScale(
        databases,
        { tenants: options.scaleTenants, rowsPerTenant: options.rowsPerTenant, sliceMs: options.scaleSliceMs, rounds: options.scaleRounds },
        log,
      )
      for (const row of scale.rows)
        log(
          `scaling ${row.tenants} tenants ${row.workload}: p50 ${row.tenantscope.p50.toFixed(3)} ms (${row.flatness.toFixed(3)} × smallest; raw ${row.rawFlatness.toFixed(3)}), ${Math.round(row.tenantscope.throughput)} ops/s`,
        )
    }

    // Scoped postgres.js against raw postgres.js, on the same data and networks.
    const postgresJs = await runPostgresJsComparison(database, pick, workloads, options, log)

    const reads = workloads.filter((w) => w.read).map((w) => w.name)
    for (const target of readTargets(cells, reads)) {
      log(
        `target ${target.network} c=${target.concurrency} ${target.workload}: ${target.ratio.toFixed(3)} (≥ ${target.target}) ${target.met ? 'met' : 'NOT met'}`,
      )
    }
    if (options.quick) {
      log('quick run: no report written')
      return
    }
    const chartFile = 'benchmarks.svg'
    const labels = { ...MODE_LABELS }
    const svg = renderChart(cells, MODE_ORDER, labels)
    const pgVersion = (createRequire(import.meta.url)('pg/package.json') as { version: string }).version
    const cpu = cpus()
    const markdown = renderReport({
      generatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      command: `pnpm bench${args.length > 0 ? ` ${args.join(' ')}` : ''}`,
      machine: [
        `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${platform()} ${release()}`,
        `Node.js ${process.version}, pg ${pgVersion}`,
        `${databases.version} (from ${databases.server.source}; the client, the proxy and PostgreSQL share the machine)`,
        `Run time ${((performance.now() - started) / 1000).toFixed(0)} s`,
      ],
      options: [
        `${options.rounds} rounds of ${options.sliceMs} ms per mode, workload, network and concurrency, after a warm-up slice; modes rotate each round`,
        `Concurrency ${options.concurrency.join(' and ')}: that many closed-loop workers, each on a pool of ${Math.max(...options.concurrency)} warm connections per role`,
        `Networks: ${options.networks.join(', ')}${options.networks.includes('proxy') ? ` (the proxy adds ${options.latencyMs} ms each way, in its own thread)` : ''}`,
        'Each operation picks one of 100 tenants (100 projects each) at random, inside `withTenant` for the scoped modes',
      ],
      latencyMs: options.latencyMs,
      cells,
      modeOrder: MODE_ORDER,
      labels,
      workloadLabels: Object.fromEntries(workloads.map((w) => [w.name, w.label])),
      readWorkloads: reads,
      roundTrips: ROUND_TRIPS,
      notes: [...notes],
      scale,
      breakdown,
      chartFile,
    })
    await mkdir(outDir, { recursive: true })
    await writeFile(join(outDir, chartFile), svg)
    await writeFile(join(outDir, 'benchmarks.md'), `${markdown}\n${renderPostgresJsSection(postgresJs, options.latencyMs)}`)
    log(
      `wrote ${relative(repoRoot, join(outDir, 'benchmarks.md'))} and ${relative(repoRoot, join(outDir, chartFile))} in ${((performance.now() - started) / 1000).toFixed(0)} s`,
    )
  } finally {
    await proxy?.close()
    await databases.close()
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exitCode = 1
})
