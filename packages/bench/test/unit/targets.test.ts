import { describe, expect, it } from 'vitest'
import { aggregateCells, type CellRun, pairRatio, totalCpuPerOp } from '../../src/cells.js'
import { judgeTargets } from '../../src/targets.js'

const cell = (mode: string, workload: string, operations: number, clientCpu: number, serverCpu: number | null): CellRun => ({
  network: 'loopback',
  concurrency: 16,
  workload,
  mode,
  operations,
  elapsedMs: 1000,
  p50: 1,
  p99: 2,
  clientCpuMicroseconds: clientCpu * operations,
  serverCpuMicroseconds: serverCpu === null ? null : serverCpu * operations,
})

// Three runs: tenantscope costs 104, 103 and 107 µs per op where the floor costs 100.
const runs = [104, 103, 107].map((tenantscope) => [
  cell('raw', 'point', 1000, 40, 50),
  cell('floor', 'point', 900, 50, 50),
  cell('tenantscope', 'point', 880, tenantscope - 50, 50),
])

describe('cells over runs', () => {
  it('pairs each mode with raw pg of the same run, then takes the median and spread', () => {
    const cells = aggregateCells(runs)
    const tenantscope = cells.find((c) => c.mode === 'tenantscope')!
    expect(tenantscope.totalCpu).toMatchObject({ median: 104, min: 103, max: 107 })
    expect(tenantscope.cpuVsRaw.median).toBeCloseTo(104 / 90)
    expect(tenantscope.ratio.median).toBeCloseTo(0.88)
    expect(tenantscope.operations).toBe(3 * 880)
  })

  it('compares a mode measured in another group with the raw pg of its group, not the first group’s', () => {
    const [first] = runs
    const ownRaw = cell('raw', 'point', 500, 80, 100)
    const naive = { ...cell('naive', 'point', 250, 200, 200), baseline: ownRaw }
    const cells = aggregateCells([[...first!, naive]])
    const row = cells.find((c) => c.mode === 'naive')!
    expect(row.ratio.median).toBeCloseTo(0.5)
    expect(row.cpuVsRaw.median).toBeCloseTo(400 / 180)
    expect(cells.find((c) => c.mode === 'raw')!.totalCpu.median).toBe(90)
    expect(
      pairRatio([[...first!, naive]], { network: 'loopback', concurrency: 16, workload: 'point' }, 'naive', 'raw', totalCpuPerOp).median,
    ).toBeCloseTo(400 / 180)
  })

  it('reports server CPU as missing, not zero, when the server could not be read', () => {
    const cells = aggregateCells([[cell('raw', 'point', 10, 40, null)]])
    expect(cells[0]!.serverCpu.median).toBeNaN()
    expect(cells[0]!.totalCpu.median).toBeNaN()
  })
})

describe('targets', () => {
  it('misses the floor target when one run is above 5%, though the median is within', () => {
    const floor = judgeTargets(runs).find((t) => t.goal === 'client path at the floor' && t.workload === 'point')!
    expect(floor.value.median).toBeCloseTo(1.04)
    expect(floor.value.max).toBeCloseTo(1.07)
    expect(floor.verdict).toBe('not met')
  })

  it('meets it when every run is within 5%', () => {
    const within = runs.map((run) => run.map((c) => (c.mode === 'tenantscope' ? cell('tenantscope', 'point', 880, 54, 50) : c)))
    expect(judgeTargets(within).find((t) => t.goal === 'client path at the floor')!.verdict).toBe('met')
  })

  it("judges the client path on each mode's own client CPU, the server's shared: server noise neither hides nor invents a difference", () => {
    // The floor's backends happened to measure 70 µs per op, tenantscope's 30: the same bytes, so noise.
    // Alone, totals would say 0.71 (met, wrongly); the client's 60 against 50 is 1.2 of a 50 µs server.
    const noisy = [[cell('raw', 'point', 1000, 40, 50), cell('floor', 'point', 900, 50, 70), cell('tenantscope', 'point', 880, 60, 30)]]
    const floor = judgeTargets(noisy).find((t) => t.goal === 'client path at the floor')!
    expect(floor.value.median).toBeCloseTo((60 + 50) / (50 + 50))
    expect(floor.verdict).toBe('not met')
    expect(
      pairRatio(noisy, { network: 'loopback', concurrency: 16, workload: 'point' }, 'tenantscope', 'floor', totalCpuPerOp).median,
    ).toBeCloseTo(90 / 120)
  })

  it('judges only targets whose modes ran (no prepareStatements mode, no such target)', () => {
    expect(judgeTargets(runs).some((t) => t.goal.startsWith('prepareStatements'))).toBe(false)
  })
})
