import type { DoctorReport } from './run-doctor.js'

/**
 * The doctor's report as text for a terminal: a summary table, then each
 * finding with why it matters and the SQL that fixes it.
 */
export function formatReport(report: DoctorReport): string {
  const { counts } = report
  const lines = [
    `tenantscope doctor: role ${report.role}, tenant column ${report.tenantColumn}, ${plural(report.tables.length, 'tenant table')}`,
    `${plural(counts.error, 'error')}, ${plural(counts.warning, 'warning')}, ${counts.info} info`,
  ]
  if (report.findings.length === 0) {
    lines.push('', 'No findings.')
    return `${lines.join('\n')}\n`
  }
  const rows = report.findings.map((finding) => [finding.severity, finding.code, `${finding.objectType} ${finding.object}`])
  const widths = [0, 1].map((column) => Math.max(column === 0 ? 8 : 4, ...rows.map((row) => row[column]!.length)))
  const row = (cells: string[]) =>
    cells
      .map((cell, index) => (index < 2 ? cell.padEnd(widths[index]!) : cell))
      .join('  ')
      .trimEnd()
  lines.push('', row(['SEVERITY', 'CODE', 'OBJECT']), ...rows.map(row))
  for (const finding of report.findings) {
    lines.push('', `${finding.severity.toUpperCase()} ${finding.code}: ${finding.objectType} ${finding.object}`, `  why: ${finding.why}`)
    if (finding.fix) lines.push('  fix:', ...finding.fix.split('\n').map((line) => `    ${line}`))
  }
  return `${lines.join('\n')}\n`
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}
