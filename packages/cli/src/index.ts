export { runDoctor, hasFindingsAtLeast } from './doctor/run-doctor.js'
export type { DoctorOptions, DoctorReport } from './doctor/run-doctor.js'
export type { DoctorQueryable } from './doctor/catalog.js'
export type { Finding, FindingCode, ObjectType, Severity } from './doctor/finding.js'
export { isAtLeast } from './doctor/finding.js'
export { DoctorError } from './doctor/doctor-error.js'
export type { DoctorErrorCode } from './doctor/doctor-error.js'
export { formatReport } from './doctor/format-report.js'
/** @internal Shared with @tenantscope/testing. */
export { VIEWS_OVER_TABLES } from './doctor/views-over-tables.js'
// Citus: tenant isolation, moves and per-tenant statistics (docs/citus.md).
export {
  findTenantShard,
  isolateTenant,
  moveTenant,
  readTenantStats,
  formatTenantStats,
  auditCitus,
  formatCitusFindings,
  CitusAdminError,
} from './citus/index.js'
export type {
  TenantShard,
  IsolateTenantOptions,
  IsolateTenantResult,
  MoveProgress,
  MoveTenantOptions,
  MoveTenantResult,
  TenantStats,
  CitusFinding,
  CitusAdminErrorCode,
  CitusQueryable,
  ShardTransferMode,
} from './citus/index.js'
