/**
 * Where a mode's process spends its JavaScript time, from a V8 CPU profile
 * of a measured slice (`pnpm --filter @tenantscope/bench bench:profile`).
 *
 * Why not only process.cpuUsage(): on a shared machine a slice's CPU time
 * moves by a third from one minute to the next, more than tenantscope's
 * whole client path. A profile says which code the time went to: the time
 * in tenantscope's own functions, pg's and Node's, per operation, beside
 * the same figures for the floor. It also leaves out two entries that are
 * not the client's work. One is idle, the wait for the server. The other is
 * the socket writes, which the profiler counts as wall time spent in the
 * syscall; on loopback that includes the backend's wake-up. They are
 * reported apart.
 */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string } }>
  samples: number[]
  /** µs before each sample (the first one: since the profile started). */
  timeDeltas: number[]
}

/** The groups a sample is counted in. */
export const JS_GROUPS = ['tenantscope', 'pg', 'node', 'gc', 'bench', 'other', 'socket writes', 'idle'] as const
export type JsGroup = (typeof JS_GROUPS)[number]

/** µs per operation in each group, and `js`: all but idle and socket writes. */
export type JsProfile = Record<JsGroup | 'js', number>

/** Sums a profile's samples per group, per operation. */
export function summarizeProfile(profile: CpuProfile, operations: number): JsProfile {
  const groupOf = new Map(profile.nodes.map((node) => [node.id, groupOfFrame(node.callFrame)]))
  const totals = Object.fromEntries(JS_GROUPS.map((group) => [group, 0])) as Record<JsGroup, number>
  // A sample's time is the interval up to the next sample: V8 records the
  // interval before each one, so sample i lasts timeDeltas[i + 1].
  for (let i = 0; i < profile.samples.length; i++) {
    const group = groupOf.get(profile.samples[i]!) ?? 'other'
    totals[group] += profile.timeDeltas[i + 1] ?? 0
  }
  const perOperation = Object.fromEntries(JS_GROUPS.map((group) => [group, operations > 0 ? totals[group] / operations : Number.NaN]))
  const js = JS_GROUPS.filter((group) => group !== 'idle' && group !== 'socket writes').reduce(
    (sum, group) => sum + perOperation[group]!,
    0,
  )
  return { ...(perOperation as Record<JsGroup, number>), js }
}

// The stream handle's writes: the time a write spends in the kernel.
const SOCKET_WRITES = new Set(['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String', 'writeAsciiString', 'writeUcs2String'])

/** @internal The group of one profile frame, by its script's URL (or its name, for V8's own entries). */
export function groupOfFrame({ functionName, url }: { functionName: string; url: string }): JsGroup {
  if (url === '') {
    if (functionName === '(idle)') return 'idle'
    if (SOCKET_WRITES.has(functionName)) return 'socket writes'
    if (functionName === '(garbage collector)') return 'gc'
    // V8's time outside any function (compiling, runtime calls).
    if (functionName === '(program)' || functionName === '(root)' || functionName === '') return 'other'
    // Node's and V8's built-ins that JavaScript calls (Buffer's utf8Write, runMicrotasks...).
    return 'node'
  }
  if (/\/packages\/core\/|\/@tenantscope\/core\//.test(url)) return 'tenantscope'
  if (/\/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?(?:pg|pg-protocol|pg-pool|pg-types|postgres-[a-z]+)\//.test(url)) return 'pg'
  if (url.startsWith('node:')) return 'node'
  if (url.includes('/packages/bench/')) return 'bench'
  return 'other'
}
