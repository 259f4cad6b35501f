import { describe, expect, test } from 'vitest'
import { callgrindPid, functionCosts, readableName } from '../../src/function-costs.js'

// bench:instructions --by-function: callgrind's output as valgrind 3.19
// writes it with --dump-instr=yes --compress-pos=no --compress-strings=no.
const CALLGRIND = `# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 4242
cmd:  node --perf-basic-prof child.ts
positions: instr line
events: Ir
summary: 1000

ob=/usr/bin/node
fl=???
fn=Builtins_KeyedLoadIC_Megamorphic
0x1000 0 30
0x1004 0 12

ob=???
fl=???
fn=0x0000000000002000
0x2000 0 100
0x2010 0 5
cfn=Builtins_KeyedLoadIC_Megamorphic
calls=2 0x1000 0
0x2014 0 84
0x2018 0 1
0x3008 0 7
0x5000 0 9
`

// The same addresses' code: 0x2000 held a function that V8 collected, then
// sendQuery (the later line wins); 0x3000 is an interpreted function.
const PERF_MAP = `2000 20 JS:~oldCode file:///repo/packages/core/dist/index.js:10:1
3000 10 JS:~hasObjectValue file:///repo/packages/core/dist/index.js:20:5
2000 40 JS:*sendQuery file:///repo/packages/core/dist/index.js:1705:19
`

describe('functionCosts', () => {
  test("credits compiled code's instructions to the perf map's function, symbols to their own name, and skips a call's inclusive cost", () => {
    const costs = functionCosts(CALLGRIND, PERF_MAP, '/repo')
    expect(Object.fromEntries(costs)).toEqual({
      Builtins_KeyedLoadIC_Megamorphic: 42,
      // 100 + 5 + 1, not the call's 84: those are the builtin's, counted above.
      'sendQuery packages/core/dist/index.js:1705:19': 106,
      'hasObjectValue packages/core/dist/index.js:20:5': 7,
      '(unnamed code)': 9,
    })
  })

  test('reads the pid that names the perf map', () => {
    expect(callgrindPid(CALLGRIND)).toBe(4242)
    expect(() => callgrindPid('events: Ir\n')).toThrow(/no pid line/)
  })
})

describe('readableName', () => {
  test('one name for every tier of a function, its path from the root', () => {
    expect(readableName('JS:*query file:///work/main/node_modules/pg/lib/client.js:668:8', '/work/main')).toBe(
      'query node_modules/pg/lib/client.js:668:8',
    )
    expect(readableName('JS:^query file:///work/main/node_modules/pg/lib/client.js:668:8', '/work/main/')).toBe(
      'query node_modules/pg/lib/client.js:668:8',
    )
    expect(readableName('RegExp:^-?infinity$', '/work/main')).toBe('RegExp:^-?infinity$')
  })
})
