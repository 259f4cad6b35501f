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
  lines.push('', ...formatStatements(snapshot.statements))
  return `${lines.join('\n')}\n`
}

function formatStatements(report: ActivitySnapshot['statements']): string[] {
  if (report.unavailable !== null) return [`pg_stat_statements: ${report.unavailable}.`]
  const lines = [
    'pg_stat_statements (since its last reset, heaviest first):',
    ...table(
      ['tenant', 'calls', 'total ms', 'mean ms', 'rows', 'query'],
      report.statements.map((s) => [
        s.tenant ?? (s.attribution === 'shared' ? `(shared: ${s.role})` : `(database ${s.database})`),
        String(s.calls),
        s.totalMs.toFixed(1),
        s.meanMs.toFixed(3),
        String(s.rows),
        s.query,
      ]),
      true,
    ),
  ]
  if (report.statements.some((s) => s.attribution === 'shared')) {
    lines.push(
      '',
      "(shared: role) rows are every pooled tenant's statements together: pg_stat_statements keys by database, role and query only,",
      'so tenants sharing a role and a database cannot be told apart there. Schema and database tenants are named.',
    )
  }
  return lines
}

/** Numbers right-aligned; the first column, and the last when `textLast`, left-aligned. */
function table(header: string[], rows: string[][], textLast = false): string[] {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)))
  const left = (i: number) => i === 0 || (textLast && i === header.length - 1)
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (left(i) ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)]
}
