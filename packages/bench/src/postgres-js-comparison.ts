import { type BackendCpu, openBackendCpu } from './backend-cpu.js'
import type { BenchDatabase } from './database.js'
import { type LatencyProxy, startLatencyProxy } from './latency-proxy.js'
import { applicationName, createPostgresJsModes, POSTGRES_JS_LABELS, type PostgresJsMode } from './postgres-js-modes.js'
import { medianRatio, rotation, runSlice, type Sample } from './runner.js'
import type { Picker, Workload } from './workloads.js'

/** Targets of the issue for scoped postgres.js against raw postgres.js (reads). */
export const POSTGRES_JS_TARGETS = { proxy: 0.9, loopback: 0.8 } as const

export interface PostgresJsOptions {
  networks: Array<'loopback' | 'proxy'>
  concurrency: number[]
  sliceMs: number
  rounds: number
  latencyMs: number
  /** postgres.js's `prepare` option for both pools. @default true */
  prepare?: boolean
}

export interface PostgresJsRow {
  network: 'loopback' | 'proxy'
  concurrency: number
  workload: string
  read: boolean
  rawThroughput: number
  scopedThroughput: number
  /** Median over rounds of the per-round ratio scoped / raw, with the lowest and highest round. */
  ratio: number
  ratioMin: number
  ratioMax: number
  /** Client CPU (user + system) per operation, µs. */
  rawCpuMicroseconds: number
  scopedCpuMicroseconds: number
  /** PostgreSQL CPU per operation, µs: the backends of each mode's pool (NaN when the server is not on this machine). */
  rawServerMicroseconds: number
  scopedServerMicroseconds: number
  /** The design's floor by hand (see postgres-js-modes.ts) against raw, median over rounds. */
  floorRatio: number
  /** RLS alone, the tenant on the session (reads only; NaN otherwise), against raw, median over rounds. */
  sessionRatio: number
  /** The tenant and the statement in one command (reads only; NaN otherwise), against raw, median over rounds. */
  oneCommandRatio: number
  /** createTenantSql over postgres(url, tenantSocket()): throughput, ratio to raw (median over rounds, lowest and highest round), CPU as above. */
  socketThroughput: number
  socketRatio: number
  socketRatioMin: number
  socketRatioMax: number
  socketCpuMicroseconds: number
  socketServerMicroseconds: number
}

/**
 * Scoped postgres.js (createTenantSql) against raw postgres.js, the same
 * statements as the pg modes, on loopback and through the latency proxy.
 * Modes alternate slice by slice and rotate their order each round.
 */
export async function runPostgresJsComparison(
  database: BenchDatabase,
  pick: Picker,
  workloads: readonly Workload[],
  options: PostgresJsOptions,
  log: (line: string) => void,
): Promise<PostgresJsRow[]> {
  const rows: PostgresJsRow[] = []
  for (const network of options.networks) {
    let urls = { maintenanceUrl: database.maintenanceUrl, appUrl: database.appUrl }
    let proxy: LatencyProxy | undefined
    if (network === 'proxy') {
      const target = new URL(database.adminUrl)
      proxy = await startLatencyProxy({ host: target.hostname, port: Number(target.port || 5432) }, options.latencyMs)
      urls = { maintenanceUrl: proxy.url(urls.maintenanceUrl), appUrl: proxy.url(urls.appUrl) }
    }
    const allModes = createPostgresJsModes(urls, Math.max(...options.concurrency), options.prepare ?? true, pick.tenant().id)
    const backends = await openBackendCpu(database.adminUrl)
    try {
      for (const concurrency of options.concurrency) {
        for (const workload of workloads) {
          // RLS with the tenant on the session is one fixed tenant: a write
          // naming another tenant's project would fail its foreign key.
          const readOnly = new Set(['postgres-js-rls-session', 'postgres-js-one-command'])
          const modes = allModes.filter((mode) => workload.read || !readOnly.has(mode.name))
          const samples = new Map<string, Sample[]>()
          const cpu = new Map<string, number>()
          const server = new Map<string, number>()
          for (let round = 0; round < options.rounds; round++) {
            for (const mode of rotation(modes, round)) {
              const { sample, clientCpu, serverCpu } = await measureOnOwnPool(mode, backends, workload, pick, concurrency, options.sliceMs)
              cpu.set(mode.name, (cpu.get(mode.name) ?? 0) + clientCpu)
              server.set(mode.name, (server.get(mode.name) ?? 0) + serverCpu)
              samples.set(mode.name, [...(samples.get(mode.name) ?? []), sample])
            }
          }
          const raw = samples.get('postgres-js-raw') ?? []
          const scoped = samples.get('postgres-js-tenantscope') ?? []
          const perRound = perRoundRatios(scoped, raw)
          const socket = samples.get('postgres-js-socket') ?? []
          const socketRounds = perRoundRatios(socket, raw)
          const row: PostgresJsRow = {
            network,
            concurrency,
            workload: workload.name,
            read: workload.read,
            rawThroughput: throughput(raw),
            scopedThroughput: throughput(scoped),
            ratio: medianRatio(scoped, raw),
            ratioMin: Math.min(...perRound),
            ratioMax: Math.max(...perRound),
            rawCpuMicroseconds: (cpu.get('postgres-js-raw') ?? 0) / operations(raw),
            scopedCpuMicroseconds: (cpu.get('postgres-js-tenantscope') ?? 0) / operations(scoped),
            rawServerMicroseconds: (server.get('postgres-js-raw') ?? Number.NaN) / operations(raw),
            scopedServerMicroseconds: (server.get('postgres-js-tenantscope') ?? Number.NaN) / operations(scoped),
            floorRatio: medianRatio(samples.get('postgres-js-floor') ?? [], raw),
            sessionRatio: medianRatio(samples.get('postgres-js-rls-session') ?? [], raw),
            oneCommandRatio: medianRatio(samples.get('postgres-js-one-command') ?? [], raw),
            socketThroughput: throughput(socket),
            socketRatio: medianRatio(socket, raw),
            socketRatioMin: Math.min(...socketRounds),
            socketRatioMax: Math.max(...socketRounds),
            socketCpuMicroseconds: (cpu.get('postgres-js-socket') ?? 0) / operations(socket),
            socketServerMicroseconds: (server.get('postgres-js-socket') ?? Number.NaN) / operations(socket),
          }
          rows.push(row)
          log(
            `postgres.js ${network} c=${concurrency} ${workload.name}: raw ${Math.round(row.rawThroughput)} ops/s, scoped ${Math.round(row.scopedThroughput)} ops/s; ` +
              `ratio ${row.ratio.toFixed(3)} (rounds ${row.ratioMin.toFixed(3)}–${row.ratioMax.toFixed(3)}); ` +
              `client CPU ${row.rawCpuMicroseconds.toFixed(0)} / ${row.scopedCpuMicroseconds.toFixed(0)} µs/op; ` +
              `server CPU ${row.rawServerMicroseconds.toFixed(0)} / ${row.scopedServerMicroseconds.toFixed(0)} µs/op; ` +
              `tenantSocket ${Math.round(row.socketThroughput)} ops/s, ratio ${row.socketRatio.toFixed(3)} (rounds ${row.socketRatioMin.toFixed(3)}–${row.socketRatioMax.toFixed(3)}), ` +
              `client CPU ${row.socketCpuMicroseconds.toFixed(0)} µs/op, server CPU ${row.socketServerMicroseconds.toFixed(0)} µs/op; ` +
              `floor ${row.floorRatio.toFixed(3)}; one command ${row.oneCommandRatio.toFixed(3)}; RLS alone ${row.sessionRatio.toFixed(3)}`,
          )
        }
      }
    } finally {
      await backends.close()
      await proxy?.close()
    }
  }
  return rows
}

const perRoundRatios = (mode: readonly Sample[], raw: readonly Sample[]) =>
  mode.map((sample, i) => sample.operations / sample.elapsedMs / (raw[i]!.operations / raw[i]!.elapsedMs))
const operations = (samples: readonly Sample[]) => samples.reduce((sum, sample) => sum + sample.operations, 0)
const throughput = (samples: readonly Sample[]) => (operations(samples) * 1000) / samples.reduce((sum, sample) => sum + sample.elapsedMs, 0)

/** The report's section: one table, targets marked on the read workloads. */
export function renderPostgresJsSection(rows: readonly PostgresJsRow[], latencyMs: number): string {
  const lines = [
    '## postgres.js',
    '',
    `${POSTGRES_JS_LABELS['postgres-js-tenantscope']} against ${POSTGRES_JS_LABELS['postgres-js-raw']}, the same statements as above, prepared.`,
    `With tenantSocket: ${POSTGRES_JS_LABELS['postgres-js-socket']}, against raw.`,
    `Ratio: median over rounds of scoped / raw throughput (lowest–highest round). Targets for reads, met when every round clears them: ≥ ${POSTGRES_JS_TARGETS.proxy} through the proxy (${latencyMs} ms each way), ≥ ${POSTGRES_JS_TARGETS.loopback} on loopback.`,
    `Floor: ${POSTGRES_JS_LABELS['postgres-js-floor']}, against raw: what any design built from postgres.js's own queries pays.`,
    `One command: ${POSTGRES_JS_LABELS['postgres-js-one-command']}, against raw (reads only).`,
    `RLS alone: ${POSTGRES_JS_LABELS['postgres-js-rls-session']}, against raw (reads only): what any RLS design pays before it sets a tenant.`,
    'CPU per operation: this process (postgres.js, tenantscope, the workers) and the PostgreSQL backends of each pool, from /proc.',
    '',
    '| network | concurrency | workload | raw ops/s | with tenantSocket / raw (range) | client CPU µs/op raw / with tenantSocket | server CPU µs/op raw / with tenantSocket | target (with tenantSocket) | createTenantSql alone / raw (range) | client / server CPU µs/op alone | floor of alone | one command | RLS alone |',
    '| --- | ---: | --- | ---: | --- | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: |',
  ]
  for (const row of rows) {
    const target = POSTGRES_JS_TARGETS[row.network]
    const mark = row.read ? `${row.socketRatioMin >= target ? 'met' : 'NOT met'} (≥ ${target})` : '—'
    lines.push(
      `| ${row.network} | ${row.concurrency} | ${row.workload} | ${Math.round(row.rawThroughput)} | ` +
        `${row.socketRatio.toFixed(3)} (${row.socketRatioMin.toFixed(3)}–${row.socketRatioMax.toFixed(3)}) | ` +
        `${row.rawCpuMicroseconds.toFixed(0)} / ${row.socketCpuMicroseconds.toFixed(0)} | ${fixed(row.rawServerMicroseconds, 0)} / ${fixed(row.socketServerMicroseconds, 0)} | ${mark} | ` +
        `${row.ratio.toFixed(3)} (${row.ratioMin.toFixed(3)}–${row.ratioMax.toFixed(3)}) | ${row.scopedCpuMicroseconds.toFixed(0)} / ${fixed(row.scopedServerMicroseconds, 0)} | ` +
        `${row.floorRatio.toFixed(3)} | ${fixed(row.oneCommandRatio, 3)} | ${fixed(row.sessionRatio, 3)} |`,
    )
  }
  return `${lines.join('\n')}\n`
}

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '—')

/**
 * One measured slice of `mode` on a pool of its own, opened for it and closed
 * after; an unmeasured run first prepares the statements on every connection
 * and warms its caches, as a pool kept open through the rounds would be.
 */
async function measureOnOwnPool(
  mode: PostgresJsMode,
  backends: BackendCpu,
  workload: Workload,
  pick: Picker,
  concurrency: number,
  sliceMs: number,
): Promise<{ sample: Sample; clientCpu: number; serverCpu: number }> {
  const open = await mode.open()
  try {
    await runSlice(open, workload, pick, concurrency, Math.min(150, sliceMs))
    const serverBefore = await backends.microseconds(applicationName(mode.name))
    const before = process.cpuUsage()
    const sample = await runSlice(open, workload, pick, concurrency, sliceMs)
    const used = process.cpuUsage(before)
    const serverCpu = (await backends.microseconds(applicationName(mode.name))) - serverBefore
    return { sample, clientCpu: used.user + used.system, serverCpu }
  } finally {
    await open.close()
  }
}
