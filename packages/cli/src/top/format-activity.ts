import type { ActivitySnapshot } from './read-activity.js'

/** @internal The snapshot as a terminal table, at most `limit` tenants. */
export function formatActivity(snapshot: ActivitySnapshot, limit: number): string {
  const header = ['tenant', 'running', 'waiting', 'idle in tx', 'longest tx', 'top wait event']
  const rows = snapshot.tenants
    .slice(0, limit)
    .map((t) => [
      t.tenant ?? '(untagged)',
      String(t.running),
      String(t.waiting),
      String(t.idleInTransaction),
      t.longestTransactionSeconds === null ? '' : `${t.longestTransactionSeconds.toFixed(1)}s`,
      t.topWaitEvent ?? '',
    ])
  const lines = [`tenantscope top — ${snapshot.at}`, '', ...table(header, rows)]
  if (snapshot.tenants.length > limit) lines.push(`… ${snapshot.tenants.length - limit} more tenants (--limit)`)
  if (snapshot.tenants.length === 0) lines.push('No other sessions on this database.')
  if (!snapshot.tenants.some((t) => t.tenant !== null)) {
    lines.push('', 'No session carries a tenant tag: create the pool with { activityTag: true } to see tenants here.')
  }
  if (!snapshot.seesAllSessions) {
    lines.push('', "This role sees only its own sessions' states: connect as a member of pg_read_all_stats to see all.")
  }
  if (snapshot.citus) {
    lines.push(
      '',
      'citus_stat_tenants (this period):',
      ...table(
        ['tenant', 'queries', 'cpu s'],
        snapshot.citus.map((c) => [c.tenant, String(c.queriesInThisPeriod), c.cpuSecondsInThisPeriod.toFixed(3)]),
      ),
    )
  }
  return `${lines.join('\n')}\n`
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)]
}
