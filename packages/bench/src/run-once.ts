import { readFile, writeFile } from 'node:fs/promises'
import { balancedOrder } from './balanced-order.js'
import type { CellRun } from './cells.js'
import { type LatencyProxy, startLatencyProxy } from './latency-proxy.js'
import { modeGroups } from './mode-groups.js'
import { type ModeProcess, startModeProcess } from './mode-process.js'
import type { ModeUrls } from './modes.js'
import { runPostgresJsComparison } from './postgres-js-comparison.js'
import type { RunPlan, RunResult } from './run-plan.js'
import { type Sample, summarize } from './runner.js'
import { measureScale } from './scale.js'
import { openServerCpu, type ServerCpu } from './server-cpu.js'
import { createPicker, WORKLOADS, type Workload } from './workloads.js'

/**
 * One independent run of the benchmark, in a process of its own (started by
 * main.ts). Each mode runs in a process of its own (mode-process.ts), in
 * groups (mode-groups.ts); this process holds the latency proxy, reads the
 * backends' CPU and asks the modes for their slices in turn, in a balanced
 * order (balanced-order.ts) that each run continues. Reads its plan from the
 * file named by argv[2], writes its result to argv[3].
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
      // Every mode's pool has as many connections as the most workers of this network.
      const size = Math.max(...concurrencies)
      let urls = { maintenanceUrl: database.maintenanceUrl, appUrl: database.appUrl }
      let proxy: LatencyProxy | undefined
      if (network === 'proxy') {
        const target = new URL(database.adminUrl)
        proxy = await startLatencyProxy({ host: target.hostname, port: Number(target.port || 5432) }, options.latencyMs)
        urls = { maintenanceUrl: proxy.url(urls.maintenanceUrl), appUrl: proxy.url(urls.appUrl) }
      }
      // On loopback, where the CPU targets are judged, each mode runs in
      // several processes one after the other, the rounds shared between
      // them: what one process's layout adds to its client CPU is then
      // averaged within the run instead of deciding it.
      const sets = network === 'loopback' ? options.processSets : 1
      const rounds = (network === 'loopback' ? options.loopbackRounds : options.rounds) / sets
      const setup = { urls, size, tenants: plan.tenants, warmupMs: options.warmupMs }
      try {
        for (const [groupIndex, group] of modeGroups(options.modes).entries()) {
          const samples = await measureGroup(
            group,
            setup,
            { sets, rounds, runIndex, concurrencies, workloads, sliceMs: options.sliceMs },
            server,
            notes,
          )
          for (const concurrency of concurrencies) {
            for (const workload of workloads) {
              const where = { network, concurrency, workload: workload.name }
              const measured = group.flatMap((mode) => {
                const slices = samples.get(cellKey(concurrency, workload.name, mode))
                return slices ? [totals(mode, slices)] : []
              })
              const raw = measured.find((cell) => cell.mode === 'raw')
              const groupCells = measured.map((cell) => ({ ...where, ...cell }))
              // The first group's raw pg is the report's; a later group's is the baseline of its own modes.
              for (const cell of groupCells) {
                if (groupIndex === 0 || cell.mode !== 'raw')
                  cells.push(groupIndex === 0 || !raw ? cell : { ...cell, baseline: { ...where, ...raw } })
              }
              log(`run ${runIndex + 1} ${network} c=${concurrency} ${workload.name}: ${describe(groupCells)}`)
            }
          }
        }
      } finally {
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

/** How a group is measured on one network. */
interface GroupPlan {
  /** Sets of processes, one after the other. */
  sets: number
  /** Rounds per cell in each set. */
  rounds: number
  runIndex: number
  concurrencies: readonly number[]
  workloads: readonly Workload[]
  sliceMs: number
}

/**
 * A group's slices on one network, by `cellKey`: each set of processes
 * measures every cell, and a mode's slices from all its processes are
 * pooled.
 */
async function measureGroup(
  group: readonly string[],
  setup: ProcessSetup,
  plan: GroupPlan,
  server: ServerCpu,
  notes: Set<string>,
): Promise<Map<string, Sample[]>> {
  const samples = new Map<string, Sample[]>()
  for (let set = 0; set < plan.sets; set++) {
    // Where this set takes up the balanced orders: runs and sets start on different modes.
    const order = plan.runIndex * plan.sets + set
    await withModeProcesses(group, order, setup, plan.workloads, notes, async (running) => {
      for (const concurrency of plan.concurrencies) {
        for (const workload of plan.workloads) {
          const measured = await measureCell(running, workload.name, concurrency, plan.rounds, plan.sliceMs, order, server)
          for (const [mode, slices] of measured) {
            const key = cellKey(concurrency, workload.name, mode)
            samples.set(key, (samples.get(key) ?? []).concat(slices))
          }
        }
      }
    })
  }
  return samples
}

function cellKey(concurrency: number, workload: string, mode: string): string {
  return `${concurrency} ${workload} ${mode}`
}

/** What starting a mode's process takes. */
interface ProcessSetup {
  urls: ModeUrls
  size: number
  tenants: RunPlan['tenants']
  warmupMs: number
}

/**
 * Starts a process for each mode of `group`, warms each up on every
 * workload, hands the ones that run to `measure`, and closes them all.
 */
async function withModeProcesses(
  group: readonly string[],
  order: number,
  setup: ProcessSetup,
  workloads: readonly Workload[],
  notes: Set<string>,
  measure: (running: ModeProcess[]) => Promise<void>,
): Promise<void> {
  const processes: ModeProcess[] = []
  try {
    // Started in an order that changes from set to set and run to run. Two
    // processes of the floor's code, started second and third in every run,
    // measured 4–15% apart in client CPU per point read in each of ten runs,
    // the second the cheaper, whether the slices rotated or took the balanced
    // order; started fifth and fourth, −3% to +5% in four runs (2026-12-02).
    // Why the position matters is not known; varying it puts it in the
    // spread, not in a ratio.
    for (const name of balancedOrder(group, order)) processes.push(await startModeProcess(name, setup.urls, setup.size, setup.tenants))
    processes.sort((a, b) => group.indexOf(a.name) - group.indexOf(b.name))
    for (const handle of processes) if (handle.note) notes.add(handle.note)
    const running = processes.filter((handle) => handle.runs)
    // A new process: pg's code, tenantscope's and the backends' caches warm
    // up on every workload before the first measured slice.
    for (const handle of running) for (const workload of workloads) await handle.slice(workload.name, setup.size, setup.warmupMs)
    await measure(running)
  } finally {
    await Promise.all(processes.map((handle) => handle.close()))
  }
}

/**
 * One cell's modes, each in its process: a warm-up slice each, then
 * `rounds` rounds of one slice per mode, in a balanced order (every mode at
 * every position and after every other mode equally often). The backends'
 * CPU is read around each slice from here. Each mode's slices, by name.
 */
async function measureCell(
  processes: readonly ModeProcess[],
  workload: string,
  concurrency: number,
  rounds: number,
  sliceMs: number,
  order: number,
  server: ServerCpu,
): Promise<Map<string, Sample[]>> {
  // Warm-up: plans, caches and the JIT, not measured.
  for (const handle of processes) await handle.slice(workload, concurrency, Math.min(150, sliceMs))
  const samples = new Map<string, Sample[]>(processes.map((handle) => [handle.name, []]))
  for (let round = 0; round < rounds; round++) {
    // Each set of processes continues the design's cycle where the last one stopped.
    for (const handle of balancedOrder(processes, round + order * rounds)) {
      const serverSince = await server.begin()
      const sample = await handle.slice(workload, concurrency, sliceMs)
      samples.get(handle.name)!.push({ ...sample, serverCpuMicroseconds: serverSince() })
    }
  }
  return samples
}

function totals(mode: string, samples: readonly Sample[]): Omit<CellRun, 'network' | 'concurrency' | 'workload'> {
  const summary = summarize(samples)
  const server = samples.map((sample) => sample.serverCpuMicroseconds)
  return {
    mode,
    operations: summary.operations,
    elapsedMs: samples.reduce((sum, sample) => sum + sample.elapsedMs, 0),
    p50: summary.p50,
    p99: summary.p99,
    clientCpuMicroseconds: samples.reduce((sum, sample) => sum + (sample.clientCpuMicroseconds ?? 0), 0),
    serverCpuMicroseconds: server.every((value) => value !== undefined) ? server.reduce((sum, value) => sum + value, 0) : null,
  }
}

/** `raw 1.000× (cpu 23+39 µs/op), floor 0.72× …`: throughput against the group's raw pg, CPU per operation. */
function describe(group: readonly CellRun[]): string {
  const raw = group.find((cell) => cell.mode === 'raw')
  return group
    .map((cell) => {
      const ratio = raw ? cell.operations / cell.elapsedMs / (raw.operations / raw.elapsedMs) : Number.NaN
      const client = cell.clientCpuMicroseconds / cell.operations
      const server = cell.serverCpuMicroseconds === null ? 'n/a' : (cell.serverCpuMicroseconds / cell.operations).toFixed(0)
      return `${cell.mode} ${ratio.toFixed(3)}× (cpu ${client.toFixed(0)}+${server} µs/op)`
    })
    .join(', ')
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
