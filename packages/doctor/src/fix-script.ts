import type { DoctorReport } from './run-doctor.js'

/**
 * The fixes of the report as one SQL script, for review: each fix under a
 * comment naming its finding, the same SQL once only (two findings on one
 * policy share a fix). Findings whose fix is a decision (no SQL, or only
 * comments) are listed at the end as comments. Nothing is run: `tenantscope
 * doctor --fix` prints it, you read it and apply it as a migration.
 * @example await writeFile('fix-rls.sql', fixScript(report))
 */
export function fixScript(report: Pick<DoctorReport, 'findings'>): string {
  const lines: string[] = ['-- tenantscope doctor --fix: review before running; nothing here has been run.']
  const seen = new Set<string>()
  const manual: string[] = []
  // A policy that one fix drops and creates again needs no other fix: an ALTER POLICY written
  // against its old expression would bring the old expression back.
  const replaced = new Set(report.findings.filter((finding) => finding.fix?.startsWith('DROP POLICY ')).map((finding) => finding.object))
  for (const finding of report.findings) {
    if (replaced.has(finding.object) && !finding.fix?.startsWith('DROP POLICY ')) continue
    const fix = finding.fix?.trim()
    const statements = fix?.split('\n').filter((line) => line.trim() !== '' && !line.trim().startsWith('--')) ?? []
    if (!fix || statements.length === 0) {
      manual.push(`--   ${finding.severity} ${finding.code}: ${finding.objectType} ${finding.object}`)
      continue
    }
    if (seen.has(fix)) continue
    seen.add(fix)
    lines.push('', `-- ${finding.severity} ${finding.code}: ${finding.objectType} ${finding.object}`, fix)
  }
  if (manual.length > 0) lines.push('', '-- Not fixable by SQL alone (see the report for why):', ...manual)
  return `${lines.join('\n')}\n`
}
