import { describe, expect, it } from 'vitest'
import { parseOptions } from '../../src/args.js'

describe('bench options', () => {
  it('measures loopback in two sets of processes by default, the rounds shared between them', () => {
    const options = parseOptions([])
    expect(options.processSets).toBe(2)
    expect(options.loopbackRounds % options.processSets).toBe(0)
    expect(parseOptions(['--quick']).processSets).toBe(1)
    expect(parseOptions(['--process-sets', '3', '--loopback-rounds', '12']).processSets).toBe(3)
  })

  it('refuses rounds that do not share equally between the sets', () => {
    expect(() => parseOptions(['--process-sets', '5'])).toThrow(/--loopback-rounds \(12\) must share equally between --process-sets \(5\)/)
    expect(() => parseOptions(['--process-sets', '0'])).toThrow(/not a positive number/)
  })
})
