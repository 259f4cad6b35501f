import { parseArgs } from 'node:util'
import type { Network } from './cells.js'

export interface BenchOptions {
  /** Independent runs, each a separate process with fresh pools. */
  runs: number
  /** Milliseconds each mode runs per slice. */
  sliceMs: number
  /** Slices per mode and cell in each run; modes alternate between slices. */
  rounds: number
  /**
   * The same for loopback cells, where the CPU targets are judged: more
   * slices, because at 4 the floor measured against itself spread ±10%.
   */
  loopbackRounds: number
  /**
   * Sets of mode processes per run on loopback, each measuring an equal share
   * of the loopback rounds, started in a different order: a process's own
   * layout moves its client CPU by a few percent (see run-once.ts), so more
   * processes per mode narrow each run's ratios without more time measured.
   */
  processSets: number
  /** Milliseconds each mode's new process runs each workload before anything is measured. */
  warmupMs: number
  /** The networks and concurrencies measured, in order. */
  cells: Array<{ network: Network; concurrency: number }>
  latencyMs: number
  workloads: string[] | undefined
  modes: string[] | undefined
  scale: boolean
  scaleTenants: number[]
  rowsPerTenant: number
  scaleSliceMs: number
  scaleRounds: number
  postgresJs: boolean
  out: string
  quick: boolean
}

const HELP = `pnpm bench [options]

  --runs N             independent runs, each its own process (default 3)
  --slice-ms N         milliseconds per mode and slice (default 300)
  --rounds N           slices per mode and cell in each run, modes alternating (default 4)
  --loopback-rounds N  the same for loopback cells, where the CPU targets are judged (default 12)
  --process-sets N     loopback: each mode in N processes per run, one after the other,
                       the loopback rounds shared between them (default 2)
  --warmup-ms N        each mode's new process runs each workload this long first (default 1000)
  --cells LIST         network:concurrency pairs (default loopback:16,proxy:1,proxy:16)
  --latency-ms N       proxy delay each way (default 1)
  --workloads LIST     point,top10,insert,tx3 (default all)
  --modes LIST         e.g. raw,floor,tenantscope (default all; raw is always run)
  --no-scale           skip the 10 000-tenant scaling run
  --scale-tenants LIST tenant counts (default 100,1000,10000)
  --rows-per-tenant N  projects per tenant in the scaling run (default 200)
  --no-postgres-js     skip the postgres.js comparison
  --quick              one run, one short round, no scaling: a smoke run, no report written
  --out DIR            where benchmarks.md and the SVG go (default docs/)

Uses TEST_DATABASE_URL or DATABASE_URL (a superuser URL) when set, otherwise
starts embedded PostgreSQL.`

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string' },
      'slice-ms': { type: 'string' },
      rounds: { type: 'string' },
      'loopback-rounds': { type: 'string' },
      'process-sets': { type: 'string' },
      'warmup-ms': { type: 'string' },
      cells: { type: 'string' },
      'latency-ms': { type: 'string' },
      workloads: { type: 'string' },
      modes: { type: 'string' },
      'no-scale': { type: 'boolean' },
      'scale-tenants': { type: 'string' },
      'rows-per-tenant': { type: 'string' },
      'no-postgres-js': { type: 'boolean' },
      quick: { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    console.log(HELP)
    process.exit(0)
  }
  const quick = values.quick === true
  const list = (value: string | undefined) =>
    value
      ?.split(',')
      .map((part) => part.trim())
      .filter(Boolean)
  const numbers = (value: string | undefined) => list(value)?.map(positive)
  const modes = list(values.modes)
  const loopbackRounds = positive(values['loopback-rounds'] ?? (quick ? '1' : '12'))
  const processSets = positive(values['process-sets'] ?? (quick ? '1' : '2'))
  if (!Number.isInteger(loopbackRounds / processSets))
    throw new Error(`--loopback-rounds (${loopbackRounds}) must share equally between --process-sets (${processSets})`)
  return {
    runs: positive(values.runs ?? (quick ? '1' : '3')),
    sliceMs: positive(values['slice-ms'] ?? (quick ? '150' : '300')),
    rounds: positive(values.rounds ?? (quick ? '1' : '4')),
    loopbackRounds,
    processSets,
    warmupMs: positive(values['warmup-ms'] ?? (quick ? '300' : '1000')),
    cells: parseCells(values.cells ?? 'loopback:16,proxy:1,proxy:16'),
    latencyMs: Number(values['latency-ms'] ?? '1'),
    workloads: list(values.workloads),
    modes: modes && !modes.includes('raw') ? ['raw', ...modes] : modes,
    scale: !values['no-scale'] && !quick,
    scaleTenants: numbers(values['scale-tenants']) ?? [100, 1000, 10_000],
    rowsPerTenant: positive(values['rows-per-tenant'] ?? '200'),
    scaleSliceMs: 300,
    scaleRounds: 5,
    postgresJs: !values['no-postgres-js'],
    out: values.out ?? 'docs',
    quick,
  }
}

/** `loopback:16,proxy:1` → the cells, in order. */
export function parseCells(text: string): BenchOptions['cells'] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [network, concurrency] = part.split(':')
      if (network !== 'loopback' && network !== 'proxy') throw new Error(`not a network: ${network} (loopback or proxy)`)
      return { network, concurrency: positive(concurrency ?? '') }
    })
}

function positive(value: string): number {
  const number = Number(value)
  if (!Number.isFinite(number) || number <= 0) throw new Error(`not a positive number: ${value}`)
  return number
}
