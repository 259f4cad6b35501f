import { describe, expect, it } from 'vitest'
import { createProcCpuReader, parseSchedstat, parseStat } from '../../src/proc-cpu.js'

describe('/proc parsing', () => {
  it('reads utime and stime after the command name, even one with spaces and parentheses', () => {
    // Fields 14 and 15 are 1234 and 56; the name "postgres: a (b) c" would shift a naive split.
    const line = '4242 (postgres: a (b) c) S 1 4242 4242 0 -1 4194560 123 0 0 0 1234 56 0 0 20 0 1 0 100 1000 200'
    expect(parseStat(line)).toEqual({ utime: 1234, stime: 56 })
  })

  it('refuses a line that is not a stat line', () => {
    expect(() => parseStat('no parentheses here')).toThrow(/not a stat line/)
    expect(() => parseStat('1 (x) S 1')).toThrow(/not a stat line/)
  })

  it('reads nanoseconds on CPU from schedstat', () => {
    expect(parseSchedstat('42322276 41245203 86\n')).toBe(42_322_276)
    expect(() => parseSchedstat('')).toThrow(/not a schedstat line/)
  })

  it('reads this process, and its CPU only grows', () => {
    const reader = createProcCpuReader()
    const before = reader.read(process.pid)!
    let spin = 0
    for (let i = 0; i < 5_000_000; i++) spin += i
    expect(spin).toBeGreaterThan(0)
    expect(reader.read(process.pid)!).toBeGreaterThan(before)
    expect(reader.read(2 ** 22 + 1)).toBeUndefined()
  })
})
