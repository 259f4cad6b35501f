// pnpm --filter @tenantscope/bench bench:instructions [--modes floor,floor-als,tenantscope] [--workloads point,top10] [--operations 10000] [--runs 1] [--json] [--by-function]
//
// What each mode's client path costs per operation, counted rather than
// timed: instructions executed, from valgrind's cachegrind, and its
// simulated first-level cache misses, which make some instructions dearer
// than others (indicative only: they move with the memory layout, which any
// change to the code moves). On this shared machine a timed measure of the
// client's CPU moves by a few µs per operation from one minute to the next,
// more than the differences that the client-path target is about; a count
// does not. Each mode runs against CannedSocket connections (no server,
// canned replies; see canned-socket.ts) in a node that V8 keeps as
// deterministic as it can (the JIT and the GC on the main thread, fixed hash
// and random seeds, a new space of a fixed size, no major GC): two counts
// of the same run agree within 0.01%, the runs of one invocation within
// about 0.3%, separate invocations within about 2% (the README has the
// figures).
// Per operation: a run of `warm-up + 1000` operations subtracted from one of
// `warm-up + 1000 + operations`, so that start-up, the JIT's work and the
// warm-up cancel out.
// With --by-function, callgrind counts instead, and the instructions are
// credited to the functions that ran them (function-costs.ts): each mode's
// functions that differ most from the reference mode's, per operation.
// It counts core's build (dist): the root script `pnpm bench:instructions`
// builds first. Needs valgrind (Debian: apt-get install valgrind).
import { execFile, execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { exitWithUsage, positiveInteger } from './cli-exit.js'
import { callgrindPid, functionCosts } from './function-costs.js'
import { INSTRUCTION_MODES, INSTRUCTION_WORKLOADS } from './instructions-child.js'
import { formatSpread, spreadOf } from './spread.js'

const COMMAND = 'bench:instructions'

const run = promisify(execFile)
// An old space that no run fills: a major GC's marking is finalised by a
// task, whose turn depends on the clock, so how many of them fell inside
// the counted operations varied between invocations (0 to 6 in a run of
// 11,000 operations of the same code), and a mode's count with them, by up
// to 45%. Without them the count is the client's work and the scavenges,
// which allocation alone triggers: a new space of a fixed size, no
// scavenge task (its turn depends on the clock too), no memory reducer.
// Not --predictable-gc-schedule, which also fixes these: it sets the new
// space to 4 MB, and there tenantscope's point reads promoted 122 KB to
// the old space at every scavenge, the floor's none (--trace-gc-nvp), which
// made tenantscope's scavenges cost ~6,000 instructions per operation more
// than the floor's. With the new space that node picks by itself, or
// 16 MB, neither promotes more than the other.
const NODE_FLAGS = [
  '--single-threaded',
  '--min-semi-space-size=16',
  '--max-semi-space-size=16',
  '--no-minor-gc-task',
  '--no-memory-reducer',
  '--initial-old-space-size=512',
  '--hash-seed=1',
  '--random-seed=1',
]
const WARM_UP = 20_000
const BASE = 1000

const { values } = parseArgs({
  options: {
    modes: { type: 'string', default: INSTRUCTION_MODES.join(',') },
    workloads: { type: 'string', default: INSTRUCTION_WORKLOADS.join(',') },
    operations: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    'by-function': { type: 'boolean', default: false },
  },
})
const modes = values.modes.split(',').filter(Boolean)
const workloads = values.workloads.split(',').filter(Boolean)
if (modes.length === 0 || workloads.length === 0) exitWithUsage(COMMAND, '--modes and --workloads each take at least one name')
const operations = positiveInteger(COMMAND, '--operations', values.operations)
const runs = positiveInteger(COMMAND, '--runs', values.runs)
for (const mode of modes)
  if (!(INSTRUCTION_MODES as readonly string[]).includes(mode))
    exitWithUsage(COMMAND, `not a mode here: ${mode} (${INSTRUCTION_MODES.join(', ')})`)
for (const name of workloads)
  if (!(INSTRUCTION_WORKLOADS as readonly string[]).includes(name)) exitWithUsage(COMMAND, `not a workload here: ${name}`)
try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' })
} catch {
  exitWithUsage(COMMAND, 'needs valgrind on the PATH (Debian: apt-get install valgrind)')
}

/** Per operation. */
interface Counts {
  instructions: number
  'L1 data misses': number
  'L1 instruction misses': number
}
const COUNTS: (keyof Counts)[] = ['instructions', 'L1 data misses', 'L1 instruction misses']
const CHILD = fileURLToPath(new URL('./instructions-child.ts', import.meta.url))
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const FUNCTIONS_SHOWN = 25
const log = (line: string) => process.stderr.write(`[instructions] ${line}\n`)

// tsx compiles the child once and caches it: a first run outside valgrind,
// so that every counted run starts from the same cache.
await run('node', ['--import', 'tsx', CHILD, modes[0]!, workloads[0]!, '10', '10'])

if (values['by-function']) {
  await reportByFunction()
  process.exit(0)
}

const measured: Array<{ workload: string; mode: string; runs: Counts[] }> = []
for (const workload of workloads) {
  for (const mode of modes) {
    const entry = { workload, mode, runs: [] as Counts[] }
    for (let r = 0; r < runs; r++) {
      log(`${workload} / ${mode}, run ${r + 1} of ${runs}`)
      // The two counts at once: two cores.
      const [base, more] = await Promise.all([count(mode, workload, BASE), count(mode, workload, BASE + operations)])
      entry.runs.push(Object.fromEntries(COUNTS.map((key) => [key, (more[key] - base[key]) / operations])) as unknown as Counts)
    }
    measured.push(entry)
  }
}

if (values.json) {
  process.stdout.write(`${JSON.stringify({ operations, runs, nodeFlags: NODE_FLAGS, measured }, null, 2)}\n`)
} else {
  const reference = modes.includes('floor-als') ? 'floor-als' : modes[0]!
  console.log(`Per operation, median [min–max] over ${runs} run(s) of ${operations} operations; ratio: instructions / ${reference}'s`)
  console.log(`| workload | mode | ${COUNTS.join(' | ')} | instructions / ${reference} |`)
  console.log(`| --- | --- | ${COUNTS.map(() => '---:').join(' | ')} | ---: |`)
  for (const { workload, mode, runs: counts } of measured) {
    const base = measured.find((entry) => entry.workload === workload && entry.mode === reference)!.runs
    const ratios = counts.map((c, i) => c.instructions / base[i]!.instructions)
    const cells = COUNTS.map((key) => formatSpread(spreadOf(counts.map((c) => c[key])), 0))
    console.log(`| ${workload} | ${mode} | ${cells.join(' | ')} | ${formatSpread(spreadOf(ratios), 3)} |`)
  }
}

// One child under cachegrind: its totals, over every thread of the process
// (tsx's module loader and Node's platform threads work mostly at start-up,
// which the subtraction cancels).
async function count(mode: string, workload: string, measuredOperations: number): Promise<Counts> {
  const { stderr } = await run(
    'valgrind',
    [
      '--tool=cachegrind',
      '--cache-sim=yes',
      // V8 writes the code it runs: valgrind must see every write to code.
      '--smc-check=all-non-file',
      '--cachegrind-out-file=/dev/null',
      ...childCommand(mode, workload, measuredOperations),
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  )
  const total = (label: string) => {
    // valgrind's own summary lines (`==pid== D1  misses:  73,301,225  (...)`), not the child's stderr.
    const match = new RegExp(`^==\\d+== ${label}\\s+(?:refs|misses):\\s+([\\d,]+)`, 'm').exec(stderr)
    if (!match) throw new Error(`no ${label} count in valgrind's output:\n${stderr.slice(-2000)}`)
    return Number(match[1]!.replaceAll(',', ''))
  }
  return {
    instructions: total('I'),
    'L1 data misses': total('D1'),
    'L1 instruction misses': total('I1'),
  }
}

// --by-function: one run of each mode, its instructions per operation by
// function; printed, the reference mode's costliest functions and those
// where each other mode differs most from it.
async function reportByFunction(): Promise<void> {
  const reference = modes.includes('floor-als') ? 'floor-als' : modes[0]!
  const measured: Array<{ workload: string; mode: string; functions: Record<string, number> }> = []
  for (const workload of workloads) {
    for (const mode of modes) {
      log(`${workload} / ${mode}, by function`)
      const [base, more] = await Promise.all([countByFunction(mode, workload, BASE), countByFunction(mode, workload, BASE + operations)])
      const functions: Record<string, number> = {}
      for (const name of new Set([...base.keys(), ...more.keys()])) {
        const perOperation = ((more.get(name) ?? 0) - (base.get(name) ?? 0)) / operations
        if (Math.abs(perOperation) >= 0.5) functions[name] = Math.round(perOperation)
      }
      measured.push({ workload, mode, functions })
    }
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ operations, nodeFlags: NODE_FLAGS, measured }, null, 2)}\n`)
    return
  }
  const total = (functions: Record<string, number>) => Object.values(functions).reduce((sum, cost) => sum + cost, 0)
  for (const { workload, mode, functions } of measured) {
    const against = measured.find((entry) => entry.workload === workload && entry.mode === reference)!.functions
    if (mode === reference) {
      const costliest = Object.entries(functions)
        .sort((a, b) => b[1] - a[1])
        .slice(0, FUNCTIONS_SHOWN)
      console.log(`\n${workload}: ${mode} ${total(functions)} instructions per operation; its costliest functions:`)
      printTable(['function', mode], costliest)
      continue
    }
    const names = [...new Set([...Object.keys(functions), ...Object.keys(against)])]
    const differences = names
      .map((name) => [name, against[name] ?? 0, functions[name] ?? 0, (functions[name] ?? 0) - (against[name] ?? 0)] as const)
      .sort((a, b) => Math.abs(b[3]) - Math.abs(a[3]))
      .slice(0, FUNCTIONS_SHOWN)
    console.log(
      `\n${workload}: ${mode} ${total(functions)} instructions per operation, ${reference} ${total(against)}; where they differ most:`,
    )
    printTable(['function', reference, mode, 'difference'], differences)
  }
}

function printTable(header: string[], rows: ReadonlyArray<readonly (string | number)[]>): void {
  console.log(`| ${header.join(' | ')} |`)
  console.log(
    `| --- | ${header
      .slice(1)
      .map(() => '---:')
      .join(' | ')} |`,
  )
  for (const [name, ...counts] of rows) console.log(`| ${String(name).replaceAll('|', '\\|')} | ${counts.join(' | ')} |`)
}

// One child under callgrind, with node's map of its compiled code: its
// instructions by function (function-costs.ts). Both files are removed.
async function countByFunction(mode: string, workload: string, measuredOperations: number): Promise<Map<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'tenantscope-callgrind-'))
  const out = join(dir, 'callgrind.out')
  let perfMap: string | undefined
  try {
    await run(
      'valgrind',
      [
        '--tool=callgrind',
        '--dump-instr=yes',
        '--compress-pos=no',
        '--compress-strings=no',
        '--smc-check=all-non-file',
        `--callgrind-out-file=${out}`,
        // With the map; which also writes V8's log, by default into the working directory.
        ...childCommand(mode, workload, measuredOperations, [
          '--perf-basic-prof',
          '--no-logfile-per-isolate',
          `--logfile=${join(dir, 'v8.log')}`,
        ]),
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    )
    const callgrind = await readFile(out, 'utf8')
    // node writes it under /tmp whatever TMPDIR says.
    perfMap = `/tmp/perf-${callgrindPid(callgrind)}.map`
    return functionCosts(callgrind, await readFile(perfMap, 'utf8'), REPO_ROOT)
  } finally {
    await rm(dir, { recursive: true, force: true })
    if (perfMap !== undefined) await rm(perfMap, { force: true })
  }
}

/** The counted child's command line: node with NODE_FLAGS (and `nodeFlags`), the mode, the workload, the operations. */
function childCommand(mode: string, workload: string, measuredOperations: number, nodeFlags: string[] = []): string[] {
  return ['node', ...NODE_FLAGS, ...nodeFlags, '--import', 'tsx', CHILD, mode, workload, String(WARM_UP), String(measuredOperations)]
}
