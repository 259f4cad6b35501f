import { type Finding, isAtLeast, type Severity } from './finding.js'
import type { DoctorReport } from './run-doctor.js'

/**
 * The report as JUnit XML, which every CI shows as tests: one test case per
 * tenant table (passed when it has no finding at or above `failOn`), and one
 * per other object with findings (the role, a view, a function, a database).
 * Findings below `failOn` are printed in the case's system-out.
 * @example await writeFile('doctor.xml', formatJunit(report, { failOn: 'warning' }))
 */
export function formatJunit(report: DoctorReport, options: { failOn?: Severity } = {}): string {
  const failOn = options.failOn ?? 'error'
  const cases = new Map<string, { classname: string; findings: Finding[] }>()
  for (const table of report.tables) cases.set(`table ${table}`, { classname: 'table', findings: [] })
  for (const finding of report.findings) {
    const name = finding.table ? `table ${finding.table}` : `${finding.objectType} ${finding.object}`
    const entry = cases.get(name) ?? { classname: finding.table ? 'table' : finding.objectType, findings: [] }
    entry.findings.push(finding)
    cases.set(name, entry)
  }
  const body: string[] = []
  let failures = 0
  for (const [name, { classname, findings }] of cases) {
    const failing = findings.filter((finding) => isAtLeast(finding.severity, failOn))
    const other = findings.filter((finding) => !isAtLeast(finding.severity, failOn))
    if (failing.length > 0) failures++
    body.push(`    <testcase classname="tenantscope.doctor.${escape(classname)}" name="${escape(name)}">`)
    if (failing.length > 0) {
      const message = failing.map((finding) => `${finding.severity} ${finding.code}`).join(', ')
      const text = escape(failing.map(describe).join('\n\n'))
      body.push(`      <failure message="${escape(message)}" type="${failing[0]!.severity}">${text}</failure>`)
    }
    if (other.length > 0) body.push(`      <system-out>${escape(other.map(describe).join('\n\n'))}</system-out>`)
    body.push('    </testcase>')
  }
  const counts = `tests="${cases.size}" failures="${failures}" errors="0" skipped="0"`
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="tenantscope doctor" ${counts}>`,
    `  <testsuite name="tenantscope doctor (role ${escape(report.role)})" ${counts}>`,
    ...body,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n')
}

function describe(finding: Finding): string {
  const head = `${finding.severity.toUpperCase()} ${finding.code}: ${finding.objectType} ${finding.object}`
  return `${head}\nwhy: ${finding.why}${finding.fix ? `\nfix:\n${finding.fix}` : ''}`
}

// Text and attribute values; characters XML 1.0 forbids are dropped.
function escape(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
}
