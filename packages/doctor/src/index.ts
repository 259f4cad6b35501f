export { runDoctor, hasFindingsAtLeast } from './run-doctor.js'
export type { DoctorOptions, DoctorReport } from './run-doctor.js'
export type { Finding, FindingCode, ObjectType, Severity } from './finding.js'
export { isAtLeast, SEVERITIES } from './finding.js'
export { DoctorError } from './doctor-error.js'
export type { DoctorErrorCode } from './doctor-error.js'
export { formatReport } from './format-report.js'
export { matchesTable } from './table-name.js'
// The catalog, for tools that read what the doctor reads (the test kit does).
export { loadTenantTables, loadConstraints, loadViews, loadRole, SYSTEM_SCHEMAS } from './catalog/index.js'
export type {
  DoctorQueryable,
  DoctorConnection,
  OtherDatabases,
  TenantTable,
  Constraint,
  ViewInfo,
  RoleInfo,
} from './catalog/index.js'
export { formatSarif } from './format-sarif.js'
export { formatJunit } from './format-junit.js'
export { fixScript } from './fix-script.js'
export { diffReports } from './diff-reports.js'
export type { DoctorDiff } from './diff-reports.js'
