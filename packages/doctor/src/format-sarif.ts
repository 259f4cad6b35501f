import type { Finding, Severity } from './finding.js'
import type { DoctorReport } from './run-doctor.js'

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' }

/**
 * The report as SARIF 2.1.0, for code scanning in CI (GitHub's
 * upload-sarif, GitLab, Azure DevOps). One rule per finding code, one result
 * per finding; the object is a logical location (`public.orders`), the fix is
 * in the result's properties. `artifactUri`, when given (your migrations
 * folder or schema file), is attached as the physical location that code
 * scanning tools need to show results.
 * @example await writeFile('doctor.sarif', formatSarif(report, { artifactUri: 'db/migrations' }))
 */
export function formatSarif(report: DoctorReport, options: { artifactUri?: string; toolVersion?: string } = {}): string {
  const codes = [...new Set(report.findings.map((finding) => finding.code))].sort()
  const rules = codes.map((code) => {
    const first = report.findings.find((finding) => finding.code === code)!
    return {
      id: code,
      name: code,
      shortDescription: { text: code.replaceAll('_', ' ') },
      defaultConfiguration: { level: LEVEL[first.severity] },
    }
  })
  const result = (finding: Finding) => ({
    ruleId: finding.code,
    ruleIndex: codes.indexOf(finding.code),
    level: LEVEL[finding.severity],
    message: { text: `${finding.objectType} ${finding.object}: ${finding.why}` },
    locations: [
      {
        ...(options.artifactUri ? { physicalLocation: { artifactLocation: { uri: options.artifactUri } } } : {}),
        logicalLocations: [{ fullyQualifiedName: finding.object, kind: finding.objectType }],
      },
    ],
    // Stable across runs, so code scanning tracks a finding instead of opening a new one each time.
    partialFingerprints: { 'tenantscopeFinding/v1': `${finding.code}:${finding.object}` },
    properties: {
      severity: finding.severity,
      ...(finding.table ? { table: finding.table } : {}),
      ...(finding.fix ? { fix: finding.fix } : {}),
    },
  })
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'tenantscope doctor',
            ...(options.toolVersion ? { version: options.toolVersion } : {}),
            rules,
          },
        },
        properties: { role: report.role, tenantColumn: report.tenantColumn, tables: report.tables },
        results: report.findings.map(result),
      },
    ],
  }
  return `${JSON.stringify(sarif, null, 2)}\n`
}
