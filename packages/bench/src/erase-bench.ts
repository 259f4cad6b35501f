import { createTenantPool, withTenant } from '@tenantscope/core'
import { DEFAULT_ERASE_BATCH_SIZE, DEFAULT_ERASE_PACE, type EraseReceipt, eraseTenant } from '@tenantscope/lifecycle'
import pg from 'pg'
import type { BenchDatabase } from './database.js'
import { seedLargeTenant } from './large-tenant.js'
import { createProcCpuReader } from './proc-cpu.js'
import type { Tenant } from './seed.js'
import { type Spread, spreadOf } from './spread.js'

/** One way to erase: rows per batch, and the pause after each batch as a multiple of its time. */
export interface EraseSetting {
  batchSize: number
  pace: number
}

/**
 * What the bench compares: batch sizes at the default pace (how long one
 * batch holds a core decides how long other tenants' queries wait for it).
 * `--erase-settings 5000:0,1000:1` picks others.
 */
export const ERASE_SETTINGS: readonly EraseSetting[] = [5000, 1000, 250].map((batchSize) => ({ batchSize, pace: DEFAULT_ERASE_PACE }))

/** The "before" window's longest: a long paced erase on a busy machine would otherwise double the bench. */
const MAX_WINDOW_MS = 30_000

/** The library's defaults, to mark their row. */
const DEFAULT = { batchSize: DEFAULT_ERASE_BATCH_SIZE, pace: DEFAULT_ERASE_PACE }

interface EraseRound {
  seconds: number
  cpuSeconds: number
  before: Window
  during: Window
  receipt: EraseReceipt
}

interface Window {
  p99: number
  count: number
  seconds: number
}

/**
 * Other tenants' point-read p99 while a large tenant is erased, against
 * their p99 just before, for each setting, over `rounds` rounds (settings
 * in alternating order). Each round seeds the large tenant afresh (foreign
 * key triggers off for the load, then VACUUM ANALYZE and CHECKPOINT so that
 * neither window pays for the load), starts the readers, lets them run 1 s
 * unmeasured, measures a "before" window as long as the same setting's
 * previous erase took (first round: 4 s × (1 + pace); at most 30 s), then the erase.
 * Both windows have the same readers (8 of them, closed loop, 20 tenants).
 */
export async function benchErase(
  database: BenchDatabase,
  small: readonly Tenant[],
  projects: number,
  rounds: number,
  settings: readonly EraseSetting[],
  log: (line: string) => void,
): Promise<string[]> {
  const results = new Map<EraseSetting, EraseRound[]>(settings.map((s) => [s, []]))
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? settings : [...settings].reverse()
    for (const setting of order) {
      const previous = results.get(setting)!.at(-1)
      const beforeMs = Math.min(MAX_WINDOW_MS, previous ? previous.seconds * 1000 : 4000 * (1 + setting.pace))
      const tenantId = await seedLargeTenant(database.adminUrl, projects)
      const result = await eraseUnderReads(database, small, tenantId, setting, beforeMs)
      results.get(setting)!.push(result)
      log(
        `erase round ${round + 1} ${label(setting)}: ${result.seconds.toFixed(1)} s (backend CPU ${result.cpuSeconds.toFixed(1)} s, ${result.receipt.batches} batches, paused ${(result.receipt.pausedMs / 1000).toFixed(1)} s); p99 ${result.during.p99.toFixed(2)} ms during (${result.during.count} reads) vs ${result.before.p99.toFixed(2)} ms before (${result.before.count} reads, ${result.before.seconds.toFixed(1)} s) = ${(result.during.p99 / result.before.p99).toFixed(2)}`,
      )
    }
  }
  const rows = settings.map((setting) => {
    const runs = results.get(setting)!
    const ratio = spreadOf(runs.map((r) => r.during.p99 / r.before.p99))
    const met = ratio.max <= 2 ? 'met' : 'not met'
    return `| ${label(setting)}${isDefault(setting) ? ' (default)' : ''} | ${fmt(spreadOf(runs.map((r) => r.seconds)), 1)} s | ${fmt(spreadOf(runs.map((r) => r.cpuSeconds)), 1)} s | ${fmt(spreadOf(runs.map((r) => r.during.p99)), 1)} ms vs ${fmt(spreadOf(runs.map((r) => r.before.p99)), 1)} ms | **${fmt(ratio, 2)}** (${met}) |`
  })
  const reads = [...results.values()].flat()
  return [
    '### Erase',
    '',
    `A tenant of ${(projects * 5 + 1).toLocaleString('en')} rows erased (verified) while 8 readers do point reads of 20 other tenants, ${rounds} rounds (settings in alternating order; the tenant seeded afresh each round). Other tenants' point-read p99 during the erase × their p99 in the window just before it, as long as the same setting's previous erase (first round: 4 s × (1 + pace); at most 30 s). ${reads.reduce((n, r) => n + r.during.count, 0).toLocaleString('en')} reads during erases, ${reads.reduce((n, r) => n + r.before.count, 0).toLocaleString('en')} before.`,
    '',
    "| erase (rows per batch, pace) | wall time | erase backend CPU | others' p99 during vs before | p99 ratio, target ≤ 2 |",
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    'Every cell: median [min–max] over the rounds. Pace p: after each batch the erase pauses p × the time the batch took.',
    '',
  ]
}

const label = (s: EraseSetting) => `${s.batchSize} rows, pace ${s.pace}`
const isDefault = (s: EraseSetting) => s.batchSize === DEFAULT.batchSize && s.pace === DEFAULT.pace
const fmt = (s: Spread, digits: number) => `${s.median.toFixed(digits)} [${s.min.toFixed(digits)}–${s.max.toFixed(digits)}]`

/** `--erase-settings 5000:0,1000:1` */
export function parseEraseSettings(argv: readonly string[]): readonly EraseSetting[] {
  const index = argv.indexOf('--erase-settings')
  if (index < 0) return ERASE_SETTINGS
  return argv[index + 1]!.split(',').map((pair) => {
    const [batchSize, pace] = pair.split(':').map(Number)
    if (!Number.isSafeInteger(batchSize) || !Number.isFinite(pace)) throw new Error(`--erase-settings: not batch:pace: ${pair}`)
    return { batchSize: batchSize!, pace: pace! }
  })
}

async function eraseUnderReads(
  database: BenchDatabase,
  small: readonly Tenant[],
  tenantId: string,
  setting: EraseSetting,
  beforeMs: number,
): Promise<EraseRound> {
  const pool = createTenantPool({ connectionString: database.appUrl, max: 8 })
  const client = new pg.Client({ connectionString: database.maintenanceUrl })
  await client.connect()
  const cpu = createProcCpuReader()
  const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
  const samples: { at: number; ms: number }[] = []
  let stop = false
  const readers = Promise.all(
    Array.from({ length: 8 }, async () => {
      while (!stop) {
        const tenant = small[Math.floor(Math.random() * small.length)]!
        const began = performance.now()
        await withTenant(tenant.id, () => pool.query('SELECT id, name FROM projects WHERE id = $1', [tenant.projectIds[0]]))
        samples.push({ at: began, ms: performance.now() - began })
      }
    }),
  )
  readers.catch(() => undefined) // handled: awaited below, after the erase
  try {
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const beforeStart = performance.now()
    await new Promise((resolve) => setTimeout(resolve, beforeMs))
    const eraseStart = performance.now()
    const cpuStart = cpu.read(pid) ?? Number.NaN
    const receipt = await eraseTenant({ client, tenantId, force: true, ...setting })
    const cpuEnd = cpu.read(pid) ?? Number.NaN
    const eraseEnd = performance.now()
    stop = true
    await readers
    return {
      seconds: (eraseEnd - eraseStart) / 1000,
      cpuSeconds: (cpuEnd - cpuStart) / 1e6,
      before: windowOf(samples, beforeStart, eraseStart),
      during: windowOf(samples, eraseStart, eraseEnd),
      receipt,
    }
  } finally {
    stop = true
    await readers.catch(() => undefined)
    await pool.end()
    await client.end()
  }
}

/** The reads that began in [from, to). */
function windowOf(samples: readonly { at: number; ms: number }[], from: number, to: number): Window {
  const latencies = samples
    .filter((s) => s.at >= from && s.at < to)
    .map((s) => s.ms)
    .sort((a, b) => a - b)
  return { p99: latencies[Math.floor(latencies.length * 0.99)] ?? Number.NaN, count: latencies.length, seconds: (to - from) / 1000 }
}
