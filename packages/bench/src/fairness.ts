import { createTenantPool, type TenantPool, withTenant } from '@tenantscope/core'
import pg from 'pg'
import type { BenchDatabase } from './database.js'
import { seedWorkload, type Tenant } from './seed.js'

/**
 * The noisy-neighbour scenario: a pool of 10 connections, 200 closed-loop
 * workers, one hot tenant sending 90% of the operations and 50 cold tenants
 * the rest. Each operation holds its connection for a fixed server time
 * (pg_sleep), so the pool, not the machine's CPU, is the bottleneck, as it
 * is for a real database under a burst. The cold tenants' latency includes
 * the wait for a connection.
 */
export interface FairnessScenario {
  poolSize: number
  workers: number
  hotShare: number
  coldTenants: number
  /** Server time each operation holds its connection, in milliseconds. */
  holdMs: number
  sliceMs: number
  rounds: number
}

export const DEFAULT_FAIRNESS_SCENARIO: FairnessScenario = {
  poolSize: 10,
  workers: 200,
  hotShare: 0.9,
  coldTenants: 50,
  holdMs: 2,
  sliceMs: 3000,
  rounds: 3,
}

export interface FairnessModeResult {
  mode: string
  label: string
  /** Medians over rounds, with [min, max]. */
  coldP50: Spread
  coldP99: Spread
  hotP99: Spread
  throughput: Spread
  /** Client CPU per operation, in microseconds. */
  cpuMicroseconds: Spread
}

export interface Spread {
  median: number
  min: number
  max: number
}

export interface FairnessResult {
  scenario: FairnessScenario
  modes: FairnessModeResult[]
  /** Cold p99 with fairness over cold p99 alone, per round: median and spread. */
  coldP99Ratio: Spread
  /** Throughput with fairness over without, per round. */
  throughputRatio: Spread
}

interface RoundSample {
  cold: number[]
  hot: number[]
  operations: number
  elapsedMs: number
  cpuMicros: number
}

type Operation = (tenantId: string, projectId: string) => Promise<unknown>

const LABELS: Record<string, string> = {
  raw: '(a) raw pg, explicit tenant_id',
  plain: '(b) tenantscope, no fairness',
  fair: '(c) tenantscope, fairness',
  alone: '(d) cold tenants alone (tenantscope, no fairness)',
}

export async function runFairness(
  database: BenchDatabase,
  scenario: FairnessScenario,
  log: (line: string) => void,
): Promise<FairnessResult> {
  const tenants = await seedWorkload(database.adminUrl, scenario.coldTenants + 1, 20)
  const [hot, ...cold] = tenants as [Tenant, ...Tenant[]]
  const sleep = `pg_sleep(${scenario.holdMs / 1000})`
  const text = `SELECT id, name, ${sleep} FROM projects WHERE id = $1`
  const rawText = `SELECT id, name, ${sleep} FROM projects WHERE tenant_id = $1 AND id = $2`

  const rawPool = new pg.Pool({ connectionString: database.maintenanceUrl, max: scenario.poolSize })
  const plain = createTenantPool({ connectionString: database.appUrl, max: scenario.poolSize })
  const fair = createTenantPool({ connectionString: database.appUrl, max: scenario.poolSize }, { fairness: { maxWaitMs: 60_000 } })
  const scoped =
    (pool: TenantPool): Operation =>
    (tenantId, projectId) =>
      withTenant(tenantId, () => pool.query(text, [projectId]))
  const modes: [string, Operation, number][] = [
    ['raw', (tenantId, projectId) => rawPool.query(rawText, [tenantId, projectId]), scenario.hotShare],
    ['plain', scoped(plain), scenario.hotShare],
    ['fair', scoped(fair), scenario.hotShare],
    ['alone', scoped(plain), 0],
  ]
  const samples = new Map<string, RoundSample[]>()
  try {
    for (const [, operation, share] of modes) await runRound(operation, hot, cold, share, scenario, Math.min(500, scenario.sliceMs))
    for (let round = 0; round < scenario.rounds; round++) {
      for (const [name, operation, share] of rotate(modes, round)) {
        const sample = await runRound(operation, hot, cold, share, scenario, scenario.sliceMs)
        samples.set(name, [...(samples.get(name) ?? []), sample])
        log(
          `fairness round ${round + 1} ${name}: cold p99 ${quantile(sample.cold, 0.99).toFixed(1)} ms, ${Math.round((sample.operations * 1000) / sample.elapsedMs)} ops/s`,
        )
      }
    }
  } finally {
    await Promise.all([rawPool.end(), plain.end(), fair.end()])
  }
  const results = modes.map(([name]) => summarizeMode(name, samples.get(name)!))
  const perRound = (f: (round: number) => number) => spread(Array.from({ length: scenario.rounds }, (_, round) => f(round)))
  return {
    scenario,
    modes: results,
    coldP99Ratio: perRound(
      (round) => quantile(samples.get('fair')![round]!.cold, 0.99) / quantile(samples.get('alone')![round]!.cold, 0.99),
    ),
    throughputRatio: perRound((round) => throughputOf(samples.get('fair')![round]!) / throughputOf(samples.get('plain')![round]!)),
  }
}

// In the scenario with the hot tenant, every worker picks hot or cold per
// operation; alone, only the cold share of the workers runs.
async function runRound(
  operation: Operation,
  hot: Tenant,
  cold: readonly Tenant[],
  hotShare: number,
  scenario: FairnessScenario,
  durationMs: number,
): Promise<RoundSample> {
  const workers = hotShare === 0 ? Math.round(scenario.workers * (1 - scenario.hotShare)) : scenario.workers
  const sample: RoundSample = { cold: [], hot: [], operations: 0, elapsedMs: 0, cpuMicros: 0 }
  const cpu = process.cpuUsage()
  const start = performance.now()
  const deadline = start + durationMs
  const worker = async () => {
    while (performance.now() < deadline) {
      const isHot = Math.random() < hotShare
      const tenant = isHot ? hot : cold[Math.floor(Math.random() * cold.length)]!
      const projectId = tenant.projectIds[Math.floor(Math.random() * tenant.projectIds.length)]!
      const began = performance.now()
      await operation(tenant.id, projectId)
      ;(isHot ? sample.hot : sample.cold).push(performance.now() - began)
      sample.operations++
    }
  }
  await Promise.all(Array.from({ length: workers }, worker))
  sample.elapsedMs = performance.now() - start
  const used = process.cpuUsage(cpu)
  sample.cpuMicros = used.user + used.system
  return sample
}

function summarizeMode(mode: string, rounds: readonly RoundSample[]): FairnessModeResult {
  return {
    mode,
    label: LABELS[mode] ?? mode,
    coldP50: spread(rounds.map((round) => quantile(round.cold, 0.5))),
    coldP99: spread(rounds.map((round) => quantile(round.cold, 0.99))),
    hotP99: spread(rounds.map((round) => quantile(round.hot, 0.99))),
    throughput: spread(rounds.map(throughputOf)),
    cpuMicroseconds: spread(rounds.map((round) => round.cpuMicros / Math.max(1, round.operations))),
  }
}

const throughputOf = (round: RoundSample) => (round.operations * 1000) / round.elapsedMs

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length / 2
  const median = sorted.length % 2 === 1 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2
  return { median, min: sorted[0]!, max: sorted.at(-1)! }
}

function rotate<T>(items: readonly T[], round: number): T[] {
  const shift = round % items.length
  return [...items.slice(shift), ...items.slice(0, shift)]
}

/** The report section: a table per mode and the two targets, judged on the whole spread. */
export function renderFairness(result: FairnessResult): string {
  const { scenario } = result
  const ms = (s: Spread) => (Number.isNaN(s.median) ? '—' : `${s.median.toFixed(1)} [${s.min.toFixed(1)}–${s.max.toFixed(1)}]`)
  const ratio = (s: Spread) => `${s.median.toFixed(2)} [${s.min.toFixed(2)}–${s.max.toFixed(2)}]`
  const lines = [
    '## Noisy neighbours: fairness',
    '',
    `A pool of ${scenario.poolSize} connections, ${scenario.workers} closed-loop workers; one hot tenant sends ${Math.round(scenario.hotShare * 100)}% of the operations, ${scenario.coldTenants} cold tenants the rest. Each operation is a point read holding its connection ${scenario.holdMs} ms on the server (\`pg_sleep\`), so the pool is the bottleneck. Latency includes the wait for a connection. ${scenario.rounds} rounds of ${scenario.sliceMs} ms per mode, rotated; medians with [min–max] over rounds. (d) runs only the cold share of the workers (${Math.round(scenario.workers * (1 - scenario.hotShare))}).`,
    '',
    '| mode | cold p50 (ms) | cold p99 (ms) | hot p99 (ms) | ops/s | client CPU per op (µs) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...result.modes.map(
      (m) =>
        `| ${m.label} | ${ms(m.coldP50)} | ${ms(m.coldP99)} | ${ms(m.hotP99)} | ${m.throughput.median.toFixed(0)} [${m.throughput.min.toFixed(0)}–${m.throughput.max.toFixed(0)}] | ${m.cpuMicroseconds.median.toFixed(0)} |`,
    ),
    '',
    '| target | measured | met (whole spread) |',
    '| --- | ---: | --- |',
    `| cold p99 with fairness ≤ 2 × cold p99 alone | ${ratio(result.coldP99Ratio)} | ${result.coldP99Ratio.max <= 2 ? 'yes' : 'no'} |`,
    `| throughput with fairness ≥ 0.9 × without | ${ratio(result.throughputRatio)} | ${result.throughputRatio.min >= 0.9 ? 'yes' : 'no'} |`,
    '',
  ]
  return lines.join('\n')
}

export interface OptionCost {
  label: string
  /** Throughput over the plain pool's, per round: median and spread. */
  ratio: Spread
  /** Client CPU per operation, in microseconds (median over rounds). */
  cpuMicroseconds: number
}

/**
 * What each observability and fairness option costs on a point read when
 * nothing contends: the same closed loop (16 workers, pool of 16) through a
 * plain TenantPool and through one with the option, rotated, several rounds.
 */
export async function runOptionCosts(
  database: BenchDatabase,
  sliceMs: number,
  rounds: number,
  log: (line: string) => void,
): Promise<OptionCost[]> {
  const tenants = await seedWorkload(database.adminUrl, 20, 20)
  const options: [string, Parameters<typeof createTenantPool>[1]][] = [
    ['no options (baseline)', {}],
    ['fairness (uncontended)', { fairness: {} }],
    ['activityTag: true (application_name per statement)', { activityTag: true }],
    ["activityTag: 'sha256'", { activityTag: 'sha256' }],
  ]
  const pools = options.map(([, option]) =>
    createTenantPool({ connectionString: database.appUrl, max: 16, application_name: 'bench' }, option),
  )
  const samples = options.map(() => [] as { throughput: number; cpu: number }[])
  try {
    const loop = async (pool: TenantPool, durationMs: number) => {
      let operations = 0
      const cpu = process.cpuUsage()
      const start = performance.now()
      const deadline = start + durationMs
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (performance.now() < deadline) {
            const tenant = tenants[Math.floor(Math.random() * tenants.length)]!
            await withTenant(tenant.id, () => pool.query('SELECT id, name FROM projects WHERE id = $1', [tenant.projectIds[0]]))
            operations++
          }
        }),
      )
      const used = process.cpuUsage(cpu)
      return { throughput: (operations * 1000) / (performance.now() - start), cpu: (used.user + used.system) / Math.max(1, operations) }
    }
    for (const pool of pools) await loop(pool, Math.min(300, sliceMs))
    for (let round = 0; round < rounds; round++) {
      for (const index of rotate(
        pools.map((_, i) => i),
        round,
      ))
        samples[index]!.push(await loop(pools[index]!, sliceMs))
    }
  } finally {
    await Promise.all(pools.map((pool) => pool.end()))
  }
  const costs = options.map(([label], index) => ({
    label,
    ratio: spread(samples[index]!.map((sample, round) => sample.throughput / samples[0]![round]!.throughput)),
    cpuMicroseconds: spread(samples[index]!.map((sample) => sample.cpu)).median,
  }))
  for (const cost of costs)
    log(`option cost ${cost.label}: ${cost.ratio.median.toFixed(3)} × baseline, ${cost.cpuMicroseconds.toFixed(0)} µs client CPU/op`)
  return costs
}

export function renderOptionCosts(costs: readonly OptionCost[], sliceMs: number, rounds: number): string {
  return [
    '## What the options cost on a point read',
    '',
    `Loopback, 16 closed-loop workers on a pool of 16, one tenant of 20 per operation, nothing contending. ${rounds} rounds of ${sliceMs} ms per option, rotated; throughput relative to the plain pool in the same round, median [min–max].`,
    '',
    '| option | throughput × baseline | client CPU per op (µs) |',
    '| --- | ---: | ---: |',
    ...costs.map(
      (cost) =>
        `| ${cost.label} | ${cost.ratio.median.toFixed(3)} [${cost.ratio.min.toFixed(3)}–${cost.ratio.max.toFixed(3)}] | ${cost.cpuMicroseconds.toFixed(0)} |`,
    ),
    '',
  ].join('\n')
}

/** A horizontal bar chart of the cold tenants' p50 and p99 per mode (SVG). */
export function renderFairnessChart(result: FairnessResult): string {
  const rows = result.modes.flatMap((mode) => [
    { label: `${mode.label} — cold p50`, value: mode.coldP50.median },
    { label: `${mode.label} — cold p99`, value: mode.coldP99.median },
  ])
  const max = Math.max(...rows.map((row) => row.value))
  const [labelWidth, barWidth, rowHeight] = [420, 360, 22]
  const height = rows.length * rowHeight + 40
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;')
  const bars = rows.map((row, i) => {
    const y = 30 + i * rowHeight
    const width = Math.max(1, (row.value / max) * barWidth)
    const fill = row.label.startsWith('(c)') ? '#2a7' : '#888'
    return [
      `<text x="${labelWidth - 8}" y="${y + 14}" text-anchor="end">${escape(row.label)}</text>`,
      `<rect x="${labelWidth}" y="${y + 3}" width="${width.toFixed(1)}" height="${rowHeight - 6}" fill="${fill}"/>`,
      `<text x="${(labelWidth + width + 6).toFixed(1)}" y="${y + 14}">${row.value.toFixed(1)} ms</text>`,
    ].join('')
  })
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + barWidth + 90}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<title>Cold tenants' latency under a hot tenant, by mode</title>`,
    `<text x="8" y="18" font-weight="bold">Cold tenants' latency under a hot tenant (pool of ${result.scenario.poolSize}, ${result.scenario.workers} workers, medians)</text>`,
    ...bars,
    '</svg>',
    '',
  ].join('\n')
}
