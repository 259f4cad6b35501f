import { describe, expect, it } from 'vitest'
import { type CpuProfile, groupOfFrame, summarizeProfile } from '../../src/js-profile.js'

const frame = (functionName: string, url = '') => ({ functionName, url })

describe('where a profiled slice spent its time', () => {
  it("tells tenantscope's code from pg's, Node's and the bench's, wherever they are installed", () => {
    expect(groupOfFrame(frame('done', 'file:///repo/packages/core/dist/index.js'))).toBe('tenantscope')
    expect(groupOfFrame(frame('done', 'file:///app/node_modules/@tenantscope/core/dist/index.js'))).toBe('tenantscope')
    expect(groupOfFrame(frame('addFields', 'file:///repo/node_modules/.pnpm/pg@8.23.1/node_modules/pg/lib/result.js'))).toBe('pg')
    expect(groupOfFrame(frame('parse', 'file:///app/node_modules/pg-protocol/dist/parser.js'))).toBe('pg')
    expect(groupOfFrame(frame('parseDate', 'file:///app/node_modules/postgres-date/index.js'))).toBe('pg')
    expect(groupOfFrame(frame('emit', 'node:events'))).toBe('node')
    expect(groupOfFrame(frame('utf8Write'))).toBe('node')
    expect(groupOfFrame(frame('next', 'file:///repo/packages/bench/src/workloads.ts'))).toBe('bench')
  })

  it('keeps the wait for the server and the socket writes apart from the JavaScript', () => {
    expect(groupOfFrame(frame('(idle)'))).toBe('idle')
    expect(groupOfFrame(frame('writev'))).toBe('socket writes')
    expect(groupOfFrame(frame('(garbage collector)'))).toBe('gc')
    expect(groupOfFrame(frame('(program)'))).toBe('other')
  })

  it("sums each sample's interval, up to the next sample, per operation", () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)') },
        { id: 2, callFrame: frame('done', 'file:///repo/packages/core/dist/index.js') },
        { id: 3, callFrame: frame('addFields', 'file:///repo/node_modules/pg/lib/result.js') },
        { id: 4, callFrame: frame('(idle)') },
        { id: 5, callFrame: frame('writev') },
      ],
      samples: [2, 3, 2, 4, 5, 3],
      // The first delta is the time before the first sample: not counted.
      timeDeltas: [999, 100, 100, 100, 100, 100],
    }
    const summary = summarizeProfile(profile, 10)
    // Sample i lasts timeDeltas[i + 1]; the last sample has no end and counts nothing.
    expect(summary.tenantscope).toBe(20)
    expect(summary.pg).toBe(10)
    expect(summary.idle).toBe(10)
    expect(summary['socket writes']).toBe(10)
    expect(summary.js).toBe(30)
  })

  it('has nothing per operation when no operation ran', () => {
    const summary = summarizeProfile({ nodes: [], samples: [], timeDeltas: [] }, 0)
    expect(summary.js).toBeNaN()
  })
})
