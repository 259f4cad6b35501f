import { fork } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { cpus, platform, release, tmpdir, totalmem } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseOptions } from './args.js'
import { aggregateCells } from './cells.js'
import { renderChart } from './chart.js'
import { openDatabases } from './database.js'
import { modeGroups } from './mode-groups.js'
import { MODE_LABELS, MODE_ORDER, ROUND_TRIPS } from './modes.js'
import { aggregatePostgresJs } from './postgres-js-runs.js'
import { renderReport } from './report.js'
import type { RunPlan, RunResult } from './run-plan.js'
import { aggregateScale, explainTop10, loadScale, type ScaleDataSet } from './scale.js'
import { seedWorkload } from './seed.js'
import { readServerSettings } from './server-settings.js'
import { judgeTargets } from './targets.js'
import { WORKLOADS } from './workloads.js'

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`)

/**
 * `pnpm bench`: prepares the data once, then runs the benchmark `--runs`
 * times, each run a separate process (run-once.ts) with fresh pools, and
 * writes docs/benchmarks.md and its chart from all the runs: every figure a
 * median over runs with its [min–max].
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((arg, index) => !(index === 0 && arg === '--'))
  const options = parseOptions(args)
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
  const outDir = resolve(repoRoot, options.out)
  const started = performance.now()

  const databases = await openDatabases(log)
  const scratch = await mkdtemp(join(tmpdir(), 'tenantscope-bench-'))
  try {
    log(`PostgreSQL: ${databases.version}`)
    const settings = await readServerSettings(databases.server.adminUrl)
    log(
      `server settings: ${Object.entries(settings)
        .map(([name, value]) => `${name}=${value}`)
        .join(', ')}`,
    )
    const database = await databases.create('workload')
    const tenants = await seedWorkload(database.adminUrl, 100, 100)
    log(`workload data: ${tenants.length} tenants × 100 projects, 3 invoices each`)
    let scaleSets: ScaleDataSet[] = []
    if (options.scale)
      scaleSets = await loadScale(
        databases,
        { tenants: options.scaleTenants, rowsPerTenant: options.rowsPerTenant, sliceMs: options.scaleSliceMs, rounds: options.scaleRounds },
        log,
      )

    const results: RunResult[] = []
    for (let runIndex = 0; runIndex < options.runs; runIndex++) {
      const plan: RunPlan = { runIndex, options, database, tenants, scale: scaleSets }
      log(`run ${runIndex + 1} of ${options.runs}: a new process`)
      results.push(await runInChild(plan, scratch))
      log(`run ${runIndex + 1} took ${(results.at(-1)!.elapsedMs / 1000).toFixed(0)} s`)
    }

    const runs = results.map((result) => result.cells)
    const cells = aggregateCells(runs)
    const targets = judgeTargets(runs)
    for (const target of targets) {
      log(
        `target ${target.network} c=${target.concurrency} ${target.workload} ${target.goal}: ${target.value.median.toFixed(3)} [${target.value.min.toFixed(3)}–${target.value.max.toFixed(3)}] (${target.direction === 'at-least' ? '≥' : '≤'} ${target.target}) ${target.verdict}`,
      )
    }
    if (options.quick) {
      log('quick run: no report written')
      return
    }
    const scale =
      scaleSets.length > 0
        ? {
            rows: aggregateScale(
              scaleSets,
              results.map((r) => r.scale),
            ),
            plan: await explainTop10(scaleSets.at(-1)!),
          }
        : undefined
    const chartFile = 'benchmarks.svg'
    const pgVersion = (createRequire(import.meta.url)('pg/package.json') as { version: string }).version
    const cpu = cpus()
    const workloads = options.workloads ? WORKLOADS.filter((w) => options.workloads!.includes(w.name)) : [...WORKLOADS]
    const runSeconds = results.map((result) => (result.elapsedMs / 1000).toFixed(0))
    const markdown = renderReport({
      generatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      command: `pnpm bench${args.length > 0 ? ` ${args.join(' ')}` : ''}`,
      runs: options.runs,
      machine: [
        `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${platform()} ${release()}`,
        `Node.js ${process.version}, pg ${pgVersion}`,
        `${databases.version} (from ${databases.server.source}; the client, the proxy and PostgreSQL share the machine)`,
        `Total run time ${((performance.now() - started) / 1000).toFixed(0)} s (runs: ${runSeconds.join(' s, ')} s; the rest is loading the data)`,
      ],
      settings,
      options: [
        `${options.runs} independent runs, one after the other on the same data`,
        `Each mode in a Node.js process of its own, with its own pool, JIT and heap (in one process, every mode's client CPU rose with the other modes' code beside it: raw pg's per point read from about 50 to about 90 µs on the host of 2026-12-01, which narrowed every ratio and hid what each mode costs). Modes are measured in groups of at most five processes, each group with raw pg: ${modeGroups(
          options.modes,
        )
          .map((group) => group.join(', '))
          .join('; ')}. A ratio to raw pg is taken within the group`,
        `Each mode's new process first runs every workload for ${options.warmupMs} ms, unmeasured; then, in each run, ${options.loopbackRounds} rounds (loopback; through the proxy ${options.rounds}) of ${options.sliceMs} ms per mode, workload, network and concurrency, after a warm-up slice (loopback has more rounds: there the CPU targets are judged, and at 4 rounds the floor measured against itself spread by ±10% between runs). On loopback each mode runs in ${options.processSets} process${options.processSets === 1 ? '' : 'es'} per run, one after the other, each measuring ${options.loopbackRounds / options.processSets} of the rounds, their slices pooled: a process's own layout moves its client CPU by a few percent, which one process per run would put whole into that run's ratios; the run's process asks the modes of a group for their slices in turn, in a balanced order (a Williams design, continued from run to run: every mode at every position and right after every other mode equally often). The processes of a group start in an order that changes from set to set and run to run: the floor's code started second and third measured 4–15% apart in client CPU per point read, the second the cheaper, in each of ten runs`,
        `Cells: ${options.cells.map((cell) => `${cell.network} at concurrency ${cell.concurrency}`).join(', ')}: that many closed-loop workers, each mode on warm pools of as many connections${options.cells.some((cell) => cell.network === 'proxy') ? `; the proxy adds ${options.latencyMs} ms each way, in a thread of the run's process` : ''}`,
        'Each operation picks one of 100 tenants (100 projects each) at random, inside `withTenant` for the scoped modes',
        `Client CPU: \`process.cpuUsage()\` of the mode's own process around each slice (the proxy is not in it). Server CPU: ${results[0]?.serverCpu ?? 'n/a'}, before and after each slice. Both per operation`,
      ],
      runResults: runs,
      cells,
      targets,
      roundTrips: ROUND_TRIPS,
      modeOrder: MODE_ORDER,
      labels: MODE_LABELS,
      workloadLabels: Object.fromEntries(workloads.map((w) => [w.name, w.label])),
      notes: [...new Set(results.flatMap((result) => result.notes))],
      postgresJs: aggregatePostgresJs(results.map((result) => result.postgresJs)),
      latencyMs: options.latencyMs,
      scale,
      chartFile,
    })
    await mkdir(outDir, { recursive: true })
    await writeFile(join(outDir, chartFile), renderChart(cells, MODE_ORDER, MODE_LABELS, options.runs))
    await writeFile(join(outDir, 'benchmarks.md'), markdown)
    log(
      `wrote ${relative(repoRoot, join(outDir, 'benchmarks.md'))} and ${relative(repoRoot, join(outDir, chartFile))} in ${((performance.now() - started) / 1000).toFixed(0)} s`,
    )
  } finally {
    await rm(scratch, { recursive: true, force: true })
    await databases.close()
  }
}

/** One run in a new Node.js process (the same loader and conditions as this one). */
async function runInChild(plan: RunPlan, scratch: string): Promise<RunResult> {
  const planFile = join(scratch, `plan-${plan.runIndex}.json`)
  const resultFile = join(scratch, `result-${plan.runIndex}.json`)
  await writeFile(planFile, JSON.stringify(plan))
  const script = fileURLToPath(new URL('./run-once.ts', import.meta.url))
  const code = await new Promise<number | null>((resolvePromise, reject) => {
    const child = fork(script, [planFile, resultFile], { stdio: 'inherit' })
    child.on('error', reject)
    child.on('exit', (exitCode) => resolvePromise(exitCode))
  })
  if (code !== 0) throw new Error(`run ${plan.runIndex + 1} failed (exit code ${code})`)
  return JSON.parse(await readFile(resultFile, 'utf8')) as RunResult
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exitCode = 1
})
