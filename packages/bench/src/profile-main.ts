// pnpm --filter @tenantscope/bench bench:profile [--modes floor,tenantscope] [--workloads point,top10] [--runs 3] [--slice-ms 2000] [--json]
//
// Where each mode's client CPU goes, per operation: tenantscope's own
// functions, pg's, Node's, the garbage collector (js-profile.ts says why).
// Loopback, 16 workers, the bench's workloads on its data. Each run starts
// every mode in a process of its own, warms it on every workload, then
// profiles one slice per mode and workload, the modes taking turns. Prints
// median [min–max] over the runs, or JSON with --json. Uses
// TEST_DATABASE_URL or DATABASE_URL when set, otherwise embedded PostgreSQL.
import { parseArgs } from 'node:util'
import { exitWithUsage, positiveInteger } from './cli-exit.js'
import { openDatabases } from './database.js'
import { JS_GROUPS, type JsProfile } from './js-profile.js'
import { type ModeProcess, startModeProcess } from './mode-process.js'
import { rotation } from './runner.js'
import { seedWorkload } from './seed.js'
import { formatSpread, spreadOf } from './spread.js'
import { WORKLOADS } from './workloads.js'

const COMMAND = 'bench:profile'

const WARMUP_MS = 1000
const CONCURRENCY = 16

const { values } = parseArgs({
  options: {
    modes: { type: 'string', default: 'floor,tenantscope' },
    workloads: { type: 'string', default: WORKLOADS.map((workload) => workload.name).join(',') },
    runs: { type: 'string', default: '3' },
    'slice-ms': { type: 'string', default: '2000' },
    json: { type: 'boolean', default: false },
  },
})
const modes = values.modes.split(',').filter(Boolean)
const workloads = values.workloads.split(',').filter(Boolean)
const runs = positiveInteger(COMMAND, '--runs', values.runs)
const sliceMs = positiveInteger(COMMAND, '--slice-ms', values['slice-ms'])
for (const name of workloads) {
  if (!WORKLOADS.some((workload) => workload.name === name)) exitWithUsage(COMMAND, `not a workload: ${name}`)
}

/** One profiled slice: the process's CPU per operation and where its JavaScript time went. */
type Measured = JsProfile & { 'client CPU': number }
/** Per workload and mode, in the order first measured: one slice per run. */
const measured = new Map<string, { workload: string; mode: string; runs: Measured[] }>()
const log = (line: string) => process.stderr.write(`[profile] ${line}\n`)

const databases = await openDatabases(log)
try {
  const database = await databases.create('profile')
  const tenants = await seedWorkload(database.adminUrl, 100, 100)
  const urls = { maintenanceUrl: database.maintenanceUrl, appUrl: database.appUrl }
  for (let run = 0; run < runs; run++) {
    log(`run ${run + 1} of ${runs}`)
    const processes: ModeProcess[] = []
    try {
      for (const name of modes) processes.push(await startModeProcess(name, urls, CONCURRENCY, tenants))
      const running = processes.filter((handle) => handle.runs)
      for (const handle of running) for (const workload of WORKLOADS) await handle.slice(workload.name, CONCURRENCY, WARMUP_MS)
      for (const workload of workloads) {
        for (const handle of rotation(running, run)) {
          const { sample, js } = await handle.profile(workload, CONCURRENCY, sliceMs)
          const key = `${workload}/${handle.name}`
          if (!measured.has(key)) measured.set(key, { workload, mode: handle.name, runs: [] })
          measured.get(key)!.runs.push({ ...js, 'client CPU': sample.clientCpuMicroseconds! / sample.operations })
        }
      }
    } finally {
      await Promise.all(processes.map((handle) => handle.close()))
    }
  }
} finally {
  await databases.close()
}

const columns = ['client CPU', 'js', ...JS_GROUPS] as const
const rows = [...measured.values()].map(({ workload, mode, runs: slices }) => ({
  workload,
  mode,
  spreads: columns.map((column) => spreadOf(slices.map((slice) => slice[column]))),
}))
if (values.json) {
  const json = rows.map(({ workload, mode, spreads }) => ({
    workload,
    mode,
    ...Object.fromEntries(columns.map((column, i) => [column, spreads[i]])),
  }))
  console.log(JSON.stringify(json, null, 2))
} else {
  console.log(`µs per operation, median [min–max] over ${runs} runs; js: all but idle and socket writes`)
  console.log(`| workload | mode | ${columns.join(' | ')} |`)
  console.log(`| --- | --- |${columns.map(() => ' ---: |').join('')}`)
  for (const { workload, mode, spreads } of rows) {
    console.log(`| ${workload} | ${mode} | ${spreads.map((spread) => formatSpread(spread, 1)).join(' | ')} |`)
  }
}
