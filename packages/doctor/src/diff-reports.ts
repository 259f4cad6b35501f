import type { Finding } from './finding.js'
import type { DoctorReport } from './run-doctor.js'

/** What changed between two reports, e.g. before and after a migration. */
export interface DoctorDiff {
  /** Findings of `after` that `before` did not have: what the change made worse. */
  readonly added: readonly Finding[]
  /** Findings of `before` that `after` no longer has: what it fixed. */
  readonly removed: readonly Finding[]
  /** Findings in both. */
  readonly unchanged: readonly Finding[]
}

// A finding is the same finding when its code and object are: the why and fix may word it differently.
const key = (finding: Finding) => `${finding.code}\u0000${finding.object}`

/**
 * Compares two doctor reports (of two databases, or one database before and
 * after a migration). A CI gate fails on `diff.added`.
 * @example
 * const diff = diffReports(await runDoctor(before), await runDoctor(after))
 * if (diff.added.some((f) => f.severity === 'error')) process.exitCode = 1
 */
export function diffReports(before: Pick<DoctorReport, 'findings'>, after: Pick<DoctorReport, 'findings'>): DoctorDiff {
  const had = new Set(before.findings.map(key))
  const has = new Set(after.findings.map(key))
  return {
    added: after.findings.filter((finding) => !had.has(key(finding))),
    removed: before.findings.filter((finding) => !has.has(key(finding))),
    unchanged: after.findings.filter((finding) => had.has(key(finding))),
  }
}
