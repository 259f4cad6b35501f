export type {
  Constraint,
  DoctorConnection,
  DoctorQueryable,
  OtherDatabases,
  RoleInfo,
  TenantTable,
  ViewInfo,
} from './catalog/index.js'
// The catalog, for tools that read what the doctor reads (the test kit does).
export { loadConstraints, loadRole, loadTenantTables, loadViews, SYSTEM_SCHEMAS } from './catalog/index.js'
export type { DoctorDiff } from './diff-reports.js'
export { diffReports } from './diff-reports.js'
export type { DoctorErrorCode } from './doctor-error.js'
export { DoctorError } from './doctor-error.js'
export type { Finding, FindingCode, ObjectType, Severity } from './finding.js'
export { isAtLeast, SEVERITIES } from './finding.js'
export { fixScript } from './fix-script.js'
export { formatJunit } from './format-junit.js'
export { formatReport } from './format-report.js'
export { formatSarif } from './format-sarif.js'
export type { DoctorOptions, DoctorReport } from './run-doctor.js'
export { hasFindingsAtLeast, runDoctor } from './run-doctor.js'
export { matchesTable } from './table-name.js'
