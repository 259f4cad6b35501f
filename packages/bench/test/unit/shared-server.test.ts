import { describe, expect, it } from 'vitest'
import type { CellRun } from '../../src/cells.js'
import { sharedServerCpuPerOp } from '../../src/shared-server.js'

const cell = (mode: string, clientCpu: number, serverCpu: number | null, workload = 'point'): CellRun => ({
  network: 'loopback',
  concurrency: 16,
  workload,
  mode,
  operations: 100,
  elapsedMs: 1000,
  p50: 1,
  p99: 2,
  clientCpuMicroseconds: clientCpu * 100,
  serverCpuMicroseconds: serverCpu === null ? null : serverCpu * 100,
})

describe("CPU per op with the server's part shared", () => {
  const run = [
    cell('raw', 30, 10),
    cell('floor', 40, 80),
    cell('floor-again', 41, 70),
    cell('floor-als', 42, 60),
    cell('tenantscope', 45, 90),
    cell('floor', 40, 500, 'tx3'),
  ]

  it("adds the mode's own client CPU to the mean server CPU of the modes sending the floor's bytes, in the same cell", () => {
    expect(sharedServerCpuPerOp(run, run[4]!)).toBeCloseTo(45 + 75)
    expect(sharedServerCpuPerOp(run, run[1]!)).toBeCloseTo(40 + 75)
  })

  it('is not defined for a mode that sends other bytes (raw pg)', () => {
    expect(sharedServerCpuPerOp(run, run[0]!)).toBeNaN()
  })

  it('is missing, not guessed, when a server figure is', () => {
    expect(sharedServerCpuPerOp([cell('floor', 40, null), cell('tenantscope', 45, 90)], cell('tenantscope', 45, 90))).toBeNaN()
  })
})
