import { parseArgs } from 'node:util'

export interface BenchOptions {
  /** Milliseconds each mode runs per slice. */
  sliceMs: number
  /** Slices per mode and cell; modes alternate between slices. */
  rounds: number
  concurrency: number[]
  latencyMs: number
  workloads: string[] | undefined
  networks: Array<'loopback' | 'proxy'>
  scale: boolean
  scaleTenants: number[]
  rowsPerTenant: number
  scaleSliceMs: number
  scaleRounds: number
  out: string
  quick: boolean
}

const HELP = `pnpm bench [options]

  --slice-ms N         milliseconds per mode and slice (default 300)
  --rounds N           slices per mode and cell, modes alternating (default 5)
  --concurrency LIST   comma-separated (default 1,16)
  --latency-ms N       proxy delay each way (default 1)
  --workloads LIST     point,top10,insert,tx3 (default all)
  --networks LIST      loopback,proxy (default both)
  --no-scale           skip the 10 000-tenant scaling run
  --scale-tenants LIST tenant counts (default 100,1000,10000)
  --rows-per-tenant N  projects per tenant in the scaling run (default 200)
  --long               9 rounds of 1.5 s slices: steadier numbers, ~25 minutes
  --quick              one short round, no scaling: a smoke run, no report written
  --out DIR            where benchmarks.md and the SVG go (default docs/)

Uses TEST_DATABASE_URL or DATABASE_URL (a superuser URL) when set, otherwise
starts embedded PostgreSQL.`

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      'slice-ms': { type: 'string' },
      rounds: { type: 'string' },
      concurrency: { type: 'string' },
      'latency-ms': { type: 'string' },
      workloads: { type: 'string' },
      networks: { type: 'string' },
      'no-scale': { type: 'boolean' },
      'scale-tenants': { type: 'string' },
      'rows-per-tenant': { type: 'string' },
      long: { type: 'boolean' },
      quick: { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    console.log(HELP)
    process.exit(0)
  }
  const long = values.long === true
  const quick = values.quick === true
  const list = (value: string | undefined) =>
    value
      ?.split(',')
      .map((part) => part.trim())
      .filter(Boolean)
  const numbers = (value: string | undefined) => list(value)?.map(positive)
  return {
    sliceMs: positive(values['slice-ms'] ?? (long ? '1500' : quick ? '150' : '300')),
    rounds: positive(values.rounds ?? (long ? '9' : quick ? '1' : '5')),
    concurrency: numbers(values.concurrency) ?? [1, 16],
    latencyMs: Number(values['latency-ms'] ?? '1'),
    workloads: list(values.workloads),
    networks: (list(values.networks) as BenchOptions['networks'] | undefined) ?? ['loopback', 'proxy'],
    scale: !values['no-scale'] && !quick,
    scaleTenants: numbers(values['scale-tenants']) ?? [100, 1000, 10_000],
    rowsPerTenant: positive(values['rows-per-tenant'] ?? '200'),
    scaleSliceMs: long ? 1000 : 300,
    scaleRounds: long ? 15 : 7,
    out: values.out ?? 'docs',
    quick,
  }
}

function positive(value: string): number {
  const number = Number(value)
  if (!Number.isFinite(number) || number <= 0) throw new Error(`not a positive number: ${value}`)
  return number
}
