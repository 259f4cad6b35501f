import { describe, expect, it } from 'vitest'
import { combine, type Measured, measureRound } from '../../src/interleaved-round.js'

const piece = (operations: number, elapsedMs: number, clientUs: number, serversUs: number): Measured => ({
  sample: { operations, elapsedMs, latencies: Array.from({ length: operations }, () => elapsedMs / operations), errors: 0 },
  clientUs,
  serversUs,
})

describe('a round measured in interleaved pieces', () => {
  it('lets the modes take turns piece by piece, each piece a share of the slice, the order rotated every turn', async () => {
    const calls: string[] = []
    const results = await measureRound(
      ['raw', 'routed', 'floor'],
      async (mode, durationMs) => {
        calls.push(`${mode}:${durationMs}`)
        return piece(10, durationMs, 1, 1)
      },
      900,
      3,
      0,
    )
    expect(calls).toEqual([
      'raw:300',
      'routed:300',
      'floor:300',
      'routed:300',
      'floor:300',
      'raw:300',
      'floor:300',
      'raw:300',
      'routed:300',
    ])
    expect(results.get('routed')!.sample).toMatchObject({ operations: 30, elapsedMs: 900 })
  })

  it("starts each round's turns from another mode", async () => {
    const first: string[] = []
    for (const round of [0, 1]) {
      const calls: string[] = []
      await measureRound(['a', 'b'], async (mode) => (calls.push(mode), piece(1, 1, 1, 1)), 2, 2, round)
      first.push(calls[0]!)
    }
    expect(first).toEqual(['a', 'b'])
  })

  it('adds operations, time and latencies, and weighs CPU per operation by each piece’s operations', () => {
    const whole = combine([piece(100, 500, 10, 40), piece(300, 500, 20, 80)])
    expect(whole.sample.operations).toBe(400)
    expect(whole.sample.elapsedMs).toBe(1000)
    expect(whole.sample.latencies).toHaveLength(400)
    // (100 × 10 + 300 × 20) / 400, not the mean of 10 and 20
    expect(whole.clientUs).toBe(17.5)
    expect(whole.serversUs).toBe(70)
  })

  it('reports no CPU per operation for a round without operations', () => {
    const whole = combine([piece(0, 500, Number.NaN, Number.NaN)])
    expect(whole.clientUs).toBeNaN()
    expect(whole.sample.operations).toBe(0)
  })
})
