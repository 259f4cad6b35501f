import { type Cell, type CellRun, cellKey, pairRatio, totalCpuPerOp } from './cells.js'
import { formatSpread, type Spread } from './spread.js'

/** The mode that runs the floor's code again, in a process of its own. */
export const AA_MODE = 'floor-again'

export interface AaControlRow {
  network: CellRun['network']
  concurrency: number
  workload: string
  /** Total CPU per op, the floor again over the floor, per run; median and spread over runs. */
  value: Spread
}

/**
 * The A/A control: the floor measured against itself, in two processes,
 * exactly as the targets' modes are measured against each other. Any
 * distance from 1 is the noise of the host and of the processes, not of
 * code, so a target whose margin lies within this spread cannot be told
 * from noise in these runs.
 */
export function aaControl(runs: readonly (readonly CellRun[])[], cells: readonly Cell[]): AaControlRow[] {
  return cells
    .filter((cell) => cell.mode === AA_MODE && cells.some((other) => cellKey(other) === cellKey({ ...cell, mode: 'floor' })))
    .map((cell) => {
      const where = { network: cell.network, concurrency: cell.concurrency, workload: cell.workload }
      return { ...where, value: pairRatio(runs, where, AA_MODE, 'floor', totalCpuPerOp) }
    })
}

export function renderAaControl(rows: readonly AaControlRow[]): string[] {
  if (rows.length === 0) return []
  const lines = [
    '## The A/A control: the floor against itself',
    '',
    `The floor's code run twice, in two processes (\`${AA_MODE}\` and \`floor\`), measured exactly as the targets' modes are.`,
    'Any distance from 1.000 is noise of the host and of the processes, not of code: a target whose margin lies within',
    'this spread cannot be told from noise by these runs. The verdicts above are given all the same.',
    '',
    '| network | concurrency | workload | total CPU per op, floor again / floor, median [min–max] | widest distance from 1 |',
    '| --- | ---: | --- | --- | --- |',
  ]
  for (const row of rows) {
    const distance = Math.max(Math.abs(row.value.max - 1), Math.abs(1 - row.value.min))
    lines.push(
      `| ${row.network} | ${row.concurrency} | ${row.workload} | ${formatSpread(row.value)} | ${Number.isFinite(distance) ? `${(distance * 100).toFixed(1)}%` : 'n/a'} |`,
    )
  }
  return [...lines, '']
}
