import { describe, expect, it } from 'vitest'
import { formatSpread, judge, median, spreadOf } from '../../src/spread.js'

describe('median and spread over runs', () => {
  it('takes the middle run, or the mean of the middle two', () => {
    expect(median([0.9, 0.7, 0.8])).toBe(0.8)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([])).toBeNaN()
  })

  it('gives the lowest and highest run beside the median, keeping every run', () => {
    expect(spreadOf([0.82, 0.79, 0.9])).toEqual({ median: 0.82, min: 0.79, max: 0.9, runs: [0.82, 0.79, 0.9] })
  })

  it('leaves out a run that measured nothing', () => {
    const spread = spreadOf([1, Number.NaN, 3])
    expect([spread.median, spread.min, spread.max]).toEqual([2, 1, 3])
  })

  it('prints median [min–max]', () => {
    expect(formatSpread(spreadOf([0.8, 0.7, 0.9]))).toBe('0.800 [0.700–0.900]')
    expect(formatSpread(spreadOf([12.4]), 0)).toBe('12')
    expect(formatSpread(spreadOf([Number.NaN]))).toBe('n/a')
  })
})

describe('judging a target across the spread', () => {
  it('meets an at-least target only when the lowest run clears it', () => {
    expect(judge(spreadOf([1.02, 1.05, 1.0]), 1.0, 'at-least')).toBe('met')
    // The median clears it, one run does not.
    expect(judge(spreadOf([1.02, 1.05, 0.99]), 1.0, 'at-least')).toBe('not met')
  })

  it('meets an at-most target only when the highest run stays under it', () => {
    expect(judge(spreadOf([1.01, 1.04, 1.05]), 1.05, 'at-most')).toBe('met')
    expect(judge(spreadOf([1.01, 1.02, 1.06]), 1.05, 'at-most')).toBe('not met')
  })

  it('never calls a target met when a run is missing', () => {
    expect(judge(spreadOf([1.2, Number.NaN, 1.3]), 1.0, 'at-least')).toBe('n/a')
    expect(judge(spreadOf([]), 1.0, 'at-least')).toBe('n/a')
  })
})
