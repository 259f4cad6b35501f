/**
 * Which functions a counted run's instructions went to (`bench:instructions
 * --by-function`). Valgrind's callgrind counts every instruction of the
 * process at its address, and names the code of Node's binary (V8's
 * builtins, its runtime, the GC). The code that V8 compiles while the
 * process runs it cannot name: node writes a map of it
 * (`--perf-basic-prof`: `/tmp/perf-<pid>.map`, one line per compiled
 * function: start address, size, name, in hex), and the instructions at
 * those addresses are credited to the function that holds them.
 *
 * A function's cost here is its own instructions (callgrind's self cost),
 * not those of what it calls; V8's inlining moves a small function's cost
 * into its caller, as in any profile of optimised code.
 */

/** The pid that callgrind recorded (the map's file is named by it). */
export function callgrindPid(callgrind: string): number {
  const match = /^pid: (\d+)$/m.exec(callgrind)
  if (!match) throw new Error('not a callgrind output: no pid line')
  return Number(match[1])
}

/**
 * Instructions per function, from a callgrind output written with
 * `--dump-instr=yes --compress-pos=no --compress-strings=no` and the perf
 * map of the same process.
 */
export function functionCosts(callgrind: string, perfMap: string, root = ''): Map<string, number> {
  const nameAt = compiledCodeNames(perfMap, root)
  const costs = new Map<string, number>()
  const add = (name: string, cost: number) => costs.set(name, (costs.get(name) ?? 0) + cost)
  let costColumn = 1
  let fn = ''
  let inclusiveNext = false
  for (const line of callgrind.split('\n')) {
    if (inclusiveNext) {
      // The line after `calls=` is the call's inclusive cost: the callee's, counted where it runs.
      inclusiveNext = false
      continue
    }
    if (line.startsWith('0x')) {
      const fields = line.split(' ')
      const cost = Number(fields[costColumn])
      // Callgrind names code without a symbol by its address: V8's compiled code.
      add(fn.startsWith('0x') ? nameAt(Number.parseInt(fields[0]!, 16)) : fn, cost)
    } else if (line.startsWith('fn=')) fn = line.slice(3)
    else if (line.startsWith('calls=')) inclusiveNext = true
    else if (line.startsWith('positions:')) costColumn = line.split(' ').length - 1
  }
  return costs
}

interface CodeRange {
  start: number
  end: number
  name: string
  /** Its line in the map: V8 reuses the addresses of code it collected, and the later entry is the one that ran last. */
  order: number
}

// Ranges this far back from the last one that starts at or before an
// address are searched for one that holds it (a range that starts further
// back and still holds it would be longer than all of those: compiled
// functions are not).
const LOOK_BACK = 64

/** An address's function, by the perf map; `(unnamed code)` where the map has none. */
function compiledCodeNames(perfMap: string, root: string): (address: number) => string {
  const ranges: CodeRange[] = []
  perfMap.split('\n').forEach((line, order) => {
    const [start, size, ...name] = line.split(' ')
    if (start === undefined || size === undefined || name.length === 0) return
    const from = Number.parseInt(start, 16)
    ranges.push({ start: from, end: from + Number.parseInt(size, 16), name: readableName(name.join(' '), root), order })
  })
  ranges.sort((a, b) => a.start - b.start)
  return (address) => {
    let low = 0
    let high = ranges.length - 1
    while (low <= high) {
      const middle = (low + high) >> 1
      if (ranges[middle]!.start <= address) low = middle + 1
      else high = middle - 1
    }
    let found: CodeRange | undefined
    for (let i = high; i >= 0 && i > high - LOOK_BACK; i--) {
      const range = ranges[i]!
      if (address < range.end && (found === undefined || range.order > found.order)) found = range
    }
    return found?.name ?? '(unnamed code)'
  }
}

/**
 * `JS:*sendQuery file:///repo/packages/core/dist/index.js:1705:19` →
 * `sendQuery packages/core/dist/index.js:1705:19`: one name for every tier
 * that V8 compiled the function in (`~` interpreted, `^` baseline, `+` and
 * `*` optimised), its path from the repository's root.
 */
export function readableName(name: string, root: string): string {
  const readable = name
    .replace(/^(?:JS|LazyCompile|Function|Script|Eval):[~^+*]?/, '')
    .replace('file://', '')
    .trim()
  return root === '' ? readable : readable.replaceAll(root.endsWith('/') ? root : `${root}/`, '')
}
