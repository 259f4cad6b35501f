import { describe, expect, it } from 'vitest'
import { MODE_GROUPS, modeGroups } from '../../src/mode-groups.js'
import { MODE_ORDER } from '../../src/modes.js'

describe('mode groups', () => {
  it('measures every mode once, beside raw pg in each group, at most five processes at once', () => {
    const groups = modeGroups()
    expect(
      groups
        .flat()
        .filter((mode) => mode !== 'raw')
        .sort(),
    ).toEqual(MODE_ORDER.filter((mode) => mode !== 'raw').sort())
    for (const group of groups) {
      expect(group[0]).toBe('raw')
      expect(group.length).toBeLessThanOrEqual(5)
    }
  })

  it('keeps the client-path target’s modes and the A/A control together in the first group', () => {
    expect(MODE_GROUPS[0]).toEqual(expect.arrayContaining(['raw', 'floor', 'floor-again', 'floor-als', 'tenantscope']))
  })

  it('puts tenantscope-prepared beside a raw pg of its own group', () => {
    expect(modeGroups().find((group) => group.includes('tenantscope-prepared'))?.[0]).toBe('raw')
  })

  it('runs only the groups of the wanted modes, each still with raw pg', () => {
    expect(modeGroups(['raw', 'drizzle'])).toEqual([['raw', 'drizzle']])
    expect(modeGroups(['raw', 'floor', 'naive'])).toEqual([
      ['raw', 'floor'],
      ['raw', 'naive'],
    ])
    expect(modeGroups(['raw'])).toEqual([['raw']])
  })
})
