/**
 * The modes measured together, each in a process of its own, their slices
 * interleaved. Every group has raw pg, and a mode's ratios to raw pg are
 * taken against its own group's. The client-path target's modes are in the
 * first, their slices alternating: the floor, its A/A control (the floor
 * again), the floor with ALS and tenantscope. tenantscope-prepared, judged
 * against raw pg, is in the second, beside its own group's raw pg. A
 * group is at most five processes of as many connections as workers: 80 at
 * concurrency 16, within PostgreSQL's default max_connections of 100.
 */
export const MODE_GROUPS: readonly (readonly string[])[] = [
  ['raw', 'floor', 'floor-again', 'floor-als', 'tenantscope'],
  ['raw', 'tenantscope-prepared', 'tenantscope-unnamed', 'drizzle-raw', 'drizzle'],
  ['raw', 'naive', 'session'],
]

/** The groups to run for the `only` modes (all when undefined); raw pg alone when no other mode is wanted. */
export function modeGroups(only?: readonly string[]): string[][] {
  const groups = MODE_GROUPS.map((group) => group.filter((mode) => mode === 'raw' || !only || only.includes(mode))).filter((group) =>
    group.some((mode) => mode !== 'raw'),
  )
  return groups.length > 0 ? groups : [['raw']]
}
