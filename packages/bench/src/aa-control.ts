import { type Cell, type CellRun, cellKey, clientCpuPerOp, pairOf, pairRatio, serverCpuPerOp, totalCpuPerOp } from './cells.js'
import { sharedServerRatio } from './shared-server.js'
import { formatSpread, type Spread } from './spread.js'

/** The mode that runs the floor's code again, in a process of its own. */
export const AA_MODE = 'floor-again'

const AA_PAIR = 'floor again / floor (A/A)'
/** The pairs printed part by part: the A/A control, then the client-path target's. */
const PAIRS = [
  { a: AA_MODE, label: AA_PAIR },
  { a: 'tenantscope', label: 'tenantscope / floor' },
] as const

export interface AaControlRow {
  network: CellRun['network']
  concurrency: number
  workload: string
  /** The two modes, in words. */
  pair: string
  /** Each a / floor per run; median and spread over runs. */
  client: Spread
  server: Spread
  /** Total CPU per op as measured. */
  value: Spread
  /** Total CPU per op with the server's part shared: what the client-path target is judged on. */
  shared: Spread
}

/**
 * The A/A control: the floor measured against itself, in two processes,
 * exactly as the targets' modes are measured against each other. Any
 * distance from 1 is the noise of the host and of the processes, not of
 * code, so a target whose margin lies within this spread cannot be told
 * from noise in these runs. Printed part by part (client, server, total as
 * measured, total with the server shared), with tenantscope against the
 * floor in the same parts below it.
 */
export function aaControl(runs: readonly (readonly CellRun[])[], cells: readonly Cell[]): AaControlRow[] {
  const rows: AaControlRow[] = []
  for (const { a, label } of PAIRS) {
    for (const cell of cells) {
      if (cell.mode !== a || !cells.some((other) => cellKey(other) === cellKey({ ...cell, mode: 'floor' }))) continue
      const where = { network: cell.network, concurrency: cell.concurrency, workload: cell.workload }
      rows.push({
        ...where,
        pair: label,
        client: pairRatio(runs, where, a, 'floor', clientCpuPerOp),
        server: pairRatio(runs, where, a, 'floor', serverCpuPerOp),
        value: pairRatio(runs, where, a, 'floor', totalCpuPerOp),
        shared: pairOf(runs, where, a, 'floor', sharedServerRatio),
      })
    }
  }
  return rows
}

const distanceFromOne = (spread: Spread) => {
  const distance = Math.max(Math.abs(spread.max - 1), Math.abs(1 - spread.min))
  return Number.isFinite(distance) ? `${(distance * 100).toFixed(1)}%` : 'n/a'
}

export function renderAaControl(rows: readonly AaControlRow[]): string[] {
  if (!rows.some((row) => row.pair === AA_PAIR)) return []
  const lines = [
    '## The A/A control: the floor against itself',
    '',
    `The floor's code run twice, in two processes (\`${AA_MODE}\` and \`floor\`), measured exactly as the targets' modes are.`,
    'Any distance from 1.000 is noise of the host and of the processes, not of code: a target whose margin lies within',
    'this spread cannot be told from noise by these runs. Below it, tenantscope against the floor, in the same parts.',
    '',
    'The floor, its second process, the floor with ALS and tenantscope send the server the same bytes, write for write',
    "(a test holds them to it), so its CPU per op is the same work for each: the client-path target takes each mode's own",
    'client CPU and the mean server CPU of the four in that run ("server shared"). The server\'s own ratio stays in the table:',
    'a mode that made the server work harder would show there, beyond the A/A spread.',
    '',
    '| network | concurrency | workload | CPU per op | client | server | total, as measured | total, server shared | A/A: widest distance from 1, as measured and shared |',
    '| --- | ---: | --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const row of rows) {
    lines.push(
      `| ${row.network} | ${row.concurrency} | ${row.workload} | ${row.pair} | ${formatSpread(row.client)} | ${formatSpread(row.server)} | ${formatSpread(row.value)} | ${formatSpread(row.shared)} | ${row.pair === AA_PAIR ? `${distanceFromOne(row.value)}, ${distanceFromOne(row.shared)}` : '—'} |`,
    )
  }
  return [...lines, '']
}
