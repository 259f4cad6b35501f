import { readFile, writeFile } from 'node:fs/promises'
import type { CellRun, Network } from './cells.js'
import { type LatencyProxy, startLatencyProxy } from './latency-proxy.js'
import { createModes } from './modes.js'
import { runPostgresJsComparison } from './postgres-js-comparison.js'
import type { RunPlan, RunResult } from './run-plan.js'
import { rotation, runMeasuredSlice, runSlice, type Sample, summarize } from './runner.js'
import { measureScale } from './scale.js'
import { openServerCpu } from './server-cpu.js'
import { createPicker, WORKLOADS } from './workloads.js'

/**
 * One independent run of the benchmark, in a process of its own (started by
 * main.ts): fresh pools, fresh JIT and heap, modes alternating slice by slice
 * in an order rotated each round and shifted by the run's index. Reads its
 * plan from the file named by argv[2], writes its result to argv[3].
 */
export async function measureRun(plan: RunPlan, log: (line: string) => void): Promise<RunResult> {
  const started = performance.now()
  const { options, database, runIndex } = plan
  const pick = createPicker(plan.tenants)
  const workloads = options.workloads ? WORKLOADS.filter((w) => options.workloads!.includes(w.name)) : [...WORKLOADS]
  const server = await openServerCpu(database.adminUrl, [database.name])
  const cells: CellRun[] = []
  const notes = new Set<string>()
  try {
    const networks = [...new Set(options.cells.map((cell) => cell.network))]
    for (const network of networks) {
      const concurrencies = options.cells.filter((cell) => cell.network === network).map((cell) => cell.concurrency)
      let urls = { maintenanceUrl: database.maintenanceUrl, appUrl: database.appUrl }
      let proxy: LatencyProxy | undefined
      if (network === 'proxy') {
        const target = new URL(database.adminUrl)
        proxy = await startLatencyProxy({ host: target.hostname, port: Number(target.port || 5432) }, options.latencyMs)
        urls = { maintenanceUrl: proxy.url(urls.maintenanceUrl), appUrl: proxy.url(urls.appUrl) }
      }
      const set = await createModes(urls, Math.max(...concurrencies), options.modes)
      for (const note of set.notes) notes.add(note)
      try {
        for (const concurrency of concurrencies) {
          for (const workload of workloads) {
            // Warm-up: plans, caches and the JIT, not measured.
            for (const mode of set.modes) await runSlice(mode, workload, pick, concurrency, Math.min(150, options.sliceMs))
            const samples = new Map<string, Sample[]>(set.modes.map((mode) => [mode.name, []]))
            for (let round = 0; round < options.rounds; round++) {
              for (const mode of rotation(set.modes, round + runIndex)) {
                samples.get(mode.name)!.push(await runMeasuredSlice(mode, workload, pick, concurrency, options.sliceMs, server))
              }
            }
            for (const mode of set.modes) cells.push(cellRun(network, concurrency, workload.name, mode.name, samples.get(mode.name)!))
            const raw = cells.find(
              (c) => c.network === network && c.concurrency === concurrency && c.workload === workload.name && c.mode === 'raw',
            )!
            const mine = cells.slice(-set.modes.length)
            log(
              `run ${runIndex + 1} ${network} c=${concurrency} ${workload.name}: ` +
                mine
                  .map((c) => `${c.mode} ${(c.operations / c.elapsedMs / (raw.operations / raw.elapsedMs) || 0).toFixed(3)}× ${perOp(c)}`)
                  .join(', '),
            )
          }
        }
      } finally {
        await set.close()
        await proxy?.close()
      }
    }
  } finally {
    await server.close()
  }

  const postgresJs = options.postgresJs
    ? await runPostgresJsComparison(
        database,
        pick,
        workloads,
        {
          networks: [...new Set(options.cells.map((cell) => cell.network))],
          concurrency: [Math.max(...options.cells.map((cell) => cell.concurrency))],
          sliceMs: options.sliceMs,
          rounds: options.rounds,
          latencyMs: options.latencyMs,
        },
        (line) => log(`run ${runIndex + 1} ${line}`),
      )
    : []

  const scale =
    plan.scale.length > 0
      ? await measureScale(
          plan.scale,
          {
            tenants: options.scaleTenants,
            rowsPerTenant: options.rowsPerTenant,
            sliceMs: options.scaleSliceMs,
            rounds: options.scaleRounds,
          },
          runIndex,
        )
      : []
  return {
    cells,
    postgresJs,
    scale,
    notes: [...notes],
    serverCpu: server.local
      ? `read from /proc/<pid>/${server.source} of every backend connected to the bench's database`
      : 'n/a: the server is not on this machine (its processes are not in /proc here)',
    elapsedMs: performance.now() - started,
  }
}

function cellRun(network: Network, concurrency: number, workload: string, mode: string, samples: readonly Sample[]): CellRun {
  const summary = summarize(samples)
  const server = samples.map((sample) => sample.serverCpuMicroseconds)
  return {
    network,
    concurrency,
    workload,
    mode,
    operations: summary.operations,
    elapsedMs: samples.reduce((sum, sample) => sum + sample.elapsedMs, 0),
    p50: summary.p50,
    p99: summary.p99,
    clientCpuMicroseconds: samples.reduce((sum, sample) => sum + (sample.clientCpuMicroseconds ?? 0), 0),
    serverCpuMicroseconds: server.every((value) => value !== undefined) ? server.reduce((sum, value) => sum + value, 0) : null,
  }
}

function perOp(cell: CellRun): string {
  const client = cell.clientCpuMicroseconds / cell.operations
  const server = cell.serverCpuMicroseconds === null ? 'n/a' : (cell.serverCpuMicroseconds / cell.operations).toFixed(0)
  return `(cpu ${client.toFixed(0)}+${server} µs/op)`
}

async function child(): Promise<void> {
  const [planFile, resultFile] = process.argv.slice(2)
  if (!planFile || !resultFile) throw new Error('usage: run-once.ts <plan.json> <result.json> (started by main.ts)')
  const plan = JSON.parse(await readFile(planFile, 'utf8')) as RunPlan
  const result = await measureRun(plan, (line) => process.stderr.write(`[bench] ${line}\n`))
  await writeFile(resultFile, JSON.stringify(result))
}

child().then(
  // Exit now: a pool left open by a failure would otherwise keep the run, and the parent waiting on it, alive.
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  },
)
