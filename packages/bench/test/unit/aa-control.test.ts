import { describe, expect, it } from 'vitest'
import { AA_MODE, aaControl, renderAaControl } from '../../src/aa-control.js'
import { aggregateCells, type CellRun } from '../../src/cells.js'

const cell = (mode: string, workload: string, totalCpuPerOp: number, clientCpuPerOp = 40): CellRun => ({
  network: 'loopback',
  concurrency: 16,
  workload,
  mode,
  operations: 1000,
  elapsedMs: 1000,
  p50: 1,
  p99: 2,
  clientCpuMicroseconds: clientCpuPerOp * 1000,
  serverCpuMicroseconds: (totalCpuPerOp - clientCpuPerOp) * 1000,
})

// The floor costs 100 µs per op (40 client, 60 server); its second process
// 96, 101 and 108 in three runs, all of it in the server; tenantscope 2 µs
// more client CPU than the floor, and a server that measured 50 every time.
const runs = [96, 101, 108].map((again) => [
  cell('raw', 'point', 90),
  cell('floor', 'point', 100),
  cell(AA_MODE, 'point', again),
  cell('tenantscope', 'point', 92, 42),
  cell('floor', 'tx3', 200),
])

describe('the A/A control', () => {
  it('pairs the floor again with the floor of the same run, per workload where both ran, part by part', () => {
    const rows = aaControl(runs, aggregateCells(runs))
    expect(rows.map((row) => row.pair)).toEqual(['floor again / floor (A/A)', 'tenantscope / floor'])
    const [aa] = rows
    expect(aa).toMatchObject({ workload: 'point', network: 'loopback', concurrency: 16 })
    expect(aa!.value.median).toBeCloseTo(1.01)
    expect(aa!.value.min).toBeCloseTo(0.96)
    expect(aa!.value.max).toBeCloseTo(1.08)
    expect(aa!.client).toMatchObject({ min: 1, max: 1 })
    expect(aa!.server.max).toBeCloseTo(68 / 60)
    // The same client code: with the server shared, nothing is left to tell them apart.
    expect(aa!.shared.min).toBeCloseTo(1)
    expect(aa!.shared.max).toBeCloseTo(1)
  })

  it("keeps all of tenantscope's client difference once the server is shared", () => {
    const tenantscope = aaControl(runs, aggregateCells(runs))[1]!
    // Server shared in the first run: the mean of 60, 56 and 50 (floor, again, tenantscope).
    expect(tenantscope.shared.runs[0]).toBeCloseTo((42 + 166 / 3) / (40 + 166 / 3))
    expect(tenantscope.value.runs[0]).toBeCloseTo(0.92)
  })

  it('prints the widest distance from 1 of any run, as measured and shared', () => {
    const table = renderAaControl(aaControl(runs, aggregateCells(runs))).join('\n')
    expect(table).toContain(
      '| loopback | 16 | point | floor again / floor (A/A) | 1.000 [1.000–1.000] | 1.017 [0.933–1.133] | 1.010 [0.960–1.080] | 1.000 [1.000–1.000] | 8.0%, 0.0% |',
    )
  })

  it('prints nothing when the control did not run', () => {
    const without = runs.map((run) => run.filter((c) => c.mode !== AA_MODE))
    expect(renderAaControl(aaControl(without, aggregateCells(without)))).toEqual([])
  })
})
