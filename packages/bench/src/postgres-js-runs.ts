import { POSTGRES_JS_TARGETS, type PostgresJsRow } from './postgres-js-comparison.js'
import { POSTGRES_JS_LABELS } from './postgres-js-modes.js'
import { formatSpread, judge, type Spread, spreadOf } from './spread.js'

export interface PostgresJsCell {
  network: 'loopback' | 'proxy'
  concurrency: number
  workload: string
  read: boolean
  ratio: Spread
  floorRatio: Spread
  rawCpu: Spread
  scopedCpu: Spread
  rawServer: Spread
  scopedServer: Spread
  sessionRatio: Spread
  oneCommandRatio: Spread
  socketRatio: Spread
  socketCpu: Spread
  socketServer: Spread
}

/** Each run's postgres.js rows folded into medians over runs with their spread. */
export function aggregatePostgresJs(runs: readonly (readonly PostgresJsRow[])[]): PostgresJsCell[] {
  const key = (row: PostgresJsRow) => `${row.network}|${row.concurrency}|${row.workload}`
  const keys = [...new Set(runs.flatMap((run) => run.map(key)))]
  return keys.map((k) => {
    const mine = runs.map((run) => run.find((row) => key(row) === k))
    const first = mine.find((row) => row !== undefined)!
    const of = (value: (row: PostgresJsRow) => number) => spreadOf(mine.map((row) => (row ? value(row) : Number.NaN)))
    return {
      network: first.network,
      concurrency: first.concurrency,
      workload: first.workload,
      read: first.read,
      ratio: of((row) => row.scopedThroughput / row.rawThroughput),
      floorRatio: of((row) => row.floorRatio),
      rawCpu: of((row) => row.rawCpuMicroseconds),
      scopedCpu: of((row) => row.scopedCpuMicroseconds),
      rawServer: of((row) => row.rawServerMicroseconds),
      scopedServer: of((row) => row.scopedServerMicroseconds),
      sessionRatio: of((row) => row.sessionRatio),
      oneCommandRatio: of((row) => row.oneCommandRatio),
      socketRatio: of((row) => row.socketThroughput / row.rawThroughput),
      socketCpu: of((row) => row.socketCpuMicroseconds),
      socketServer: of((row) => row.socketServerMicroseconds),
    }
  })
}

export function renderPostgresJsCells(cells: readonly PostgresJsCell[], latencyMs: number): string[] {
  if (cells.length === 0) return []
  const lines = [
    '## postgres.js',
    '',
    `${POSTGRES_JS_LABELS['postgres-js-tenantscope']} against ${POSTGRES_JS_LABELS['postgres-js-raw']}, the same statements as above, prepared.`,
    `With tenantSocket: ${POSTGRES_JS_LABELS['postgres-js-socket']}, against raw; the targets are judged on it.`,
    'Measured in each run after the pg modes, on the same data; each mode opens its pool (16 connections) for its slice only, after an unmeasured warm-up, so that no other mode holds connections meanwhile. Ratio: scoped / raw throughput over the run, median over runs [min–max].',
    `Floor: ${POSTGRES_JS_LABELS['postgres-js-floor']}, against raw; RLS alone (the tenant on the session) and one command (SET LOCAL and EXECUTE in one simple Query) for reads; each the median of that run's rounds, then over runs.`,
    "Client CPU of this process, server CPU of each mode's backends (n/a when the server is not on this machine), µs per operation.",
    `Targets for reads: ≥ ${POSTGRES_JS_TARGETS.proxy} through the proxy (${latencyMs} ms each way), ≥ ${POSTGRES_JS_TARGETS.loopback} on loopback, met when every run clears it.`,
    '',
    '| network | concurrency | workload | with tenantSocket / raw | client CPU raw | with tenantSocket | server CPU raw | with tenantSocket | target | alone / raw | client CPU alone | server CPU alone | floor of alone / raw | RLS alone / raw | one command / raw |',
    '| --- | ---: | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const cell of cells) {
    const target = POSTGRES_JS_TARGETS[cell.network]
    const mark = cell.read ? `${judge(cell.socketRatio, target, 'at-least')} (≥ ${target})` : '—'
    lines.push(
      `| ${cell.network} | ${cell.concurrency} | ${cell.workload} | ${formatSpread(cell.socketRatio)} | ${formatSpread(cell.rawCpu, 0)} | ${formatSpread(cell.socketCpu, 0)} | ${formatSpread(cell.rawServer, 0)} | ${formatSpread(cell.socketServer, 0)} | ${mark} | ` +
        `${formatSpread(cell.ratio)} | ${formatSpread(cell.scopedCpu, 0)} | ${formatSpread(cell.scopedServer, 0)} | ${formatSpread(cell.floorRatio)} | ${formatSpread(cell.sessionRatio)} | ${formatSpread(cell.oneCommandRatio)} |`,
    )
  }
  lines.push('')
  return lines
}
