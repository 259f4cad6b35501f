import { describe, expect, it } from 'vitest'
import { balancedOrder } from '../../src/balanced-order.js'

const MODES = ['raw', 'floor', 'floor-again', 'floor-als', 'tenantscope']

function tally(modes: readonly string[], rounds: number) {
  const positions = new Map<string, number>()
  const follows = new Map<string, number>()
  for (let round = 0; round < rounds; round++) {
    const order = balancedOrder(modes, round)
    expect([...order].sort()).toEqual([...modes].sort())
    order.forEach((mode, position) => positions.set(`${mode}@${position}`, (positions.get(`${mode}@${position}`) ?? 0) + 1))
    for (let i = 1; i < order.length; i++) {
      const pair = `${order[i - 1]}>${order[i]}`
      follows.set(pair, (follows.get(pair) ?? 0) + 1)
    }
  }
  return { positions, follows }
}

describe('the balanced order of modes', () => {
  it.each([
    [MODES, 10],
    [MODES.slice(0, 4), 4],
    [MODES.slice(0, 3), 6],
  ])('over a cycle, puts every mode at every position and after every other mode equally often (%j)', (modes, cycle) => {
    const { positions, follows } = tally(modes, cycle)
    expect(positions.size).toBe(modes.length * modes.length)
    expect(new Set(positions.values()).size).toBe(1)
    expect(follows.size).toBe(modes.length * (modes.length - 1))
    expect(new Set(follows.values()).size).toBe(1)
  })

  it('does not always run the floor again right after the floor, as a plain rotation did', () => {
    const { follows } = tally(MODES, 10)
    const afterFloor = [...follows].filter(([pair]) => pair.startsWith('floor>'))
    expect(afterFloor.map(([pair]) => pair.split('>')[1]).sort()).toEqual(['floor-again', 'floor-als', 'raw', 'tenantscope'])
  })

  it('repeats with its cycle and takes any round number', () => {
    expect(balancedOrder(MODES, 13)).toEqual(balancedOrder(MODES, 3))
    expect(balancedOrder(['only'], 5)).toEqual(['only'])
  })
})
