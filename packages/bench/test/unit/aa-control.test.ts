import { describe, expect, it } from 'vitest'
import { AA_MODE, aaControl, renderAaControl } from '../../src/aa-control.js'
import { aggregateCells, type CellRun } from '../../src/cells.js'

const cell = (mode: string, workload: string, totalCpuPerOp: number): CellRun => ({
  network: 'loopback',
  concurrency: 16,
  workload,
  mode,
  operations: 1000,
  elapsedMs: 1000,
  p50: 1,
  p99: 2,
  clientCpuMicroseconds: 40 * 1000,
  serverCpuMicroseconds: (totalCpuPerOp - 40) * 1000,
})

// The floor costs 100 µs per op; its second process 96, 101 and 108 in three runs.
const runs = [96, 101, 108].map((again) => [
  cell('raw', 'point', 90),
  cell('floor', 'point', 100),
  cell(AA_MODE, 'point', again),
  cell('floor', 'tx3', 200),
])

describe('the A/A control', () => {
  it('pairs the floor again with the floor of the same run, per workload where both ran', () => {
    const rows = aaControl(runs, aggregateCells(runs))
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ workload: 'point', network: 'loopback', concurrency: 16 })
    expect(rows[0]!.value.median).toBeCloseTo(1.01)
    expect(rows[0]!.value.min).toBeCloseTo(0.96)
    expect(rows[0]!.value.max).toBeCloseTo(1.08)
  })

  it('prints the widest distance from 1 of any run', () => {
    const table = renderAaControl(aaControl(runs, aggregateCells(runs))).join('\n')
    expect(table).toContain('| loopback | 16 | point | 1.010 [0.960–1.080] | 8.0% |')
  })

  it('prints nothing when the control did not run', () => {
    const without = runs.map((run) => run.filter((c) => c.mode !== AA_MODE))
    expect(renderAaControl(aaControl(without, aggregateCells(without)))).toEqual([])
  })
})
