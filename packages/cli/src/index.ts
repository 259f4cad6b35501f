// The doctor lives in @tenantscope/doctor; this package is its command line.
// Its API stays importable from here, as it was before the split.
export {
  DoctorError,
  type DoctorErrorCode,
  type DoctorOptions,
  type DoctorQueryable,
  type DoctorReport,
  type Finding,
  type FindingCode,
  formatReport,
  hasFindingsAtLeast,
  isAtLeast,
  type ObjectType,
  runDoctor,
  type Severity,
} from '@tenantscope/doctor'
export type {
  CitusAdminErrorCode,
  CitusFinding,
  CitusQueryable,
  IsolateTenantOptions,
  IsolateTenantResult,
  MoveProgress,
  MoveTenantOptions,
  MoveTenantResult,
  ShardTransferMode,
  TenantShard,
  TenantStats,
} from './citus/index.js'
// Citus: tenant isolation, moves and per-tenant statistics (docs/citus.md).
export {
  auditCitus,
  CitusAdminError,
  findTenantShard,
  formatCitusFindings,
  formatTenantStats,
  isolateTenant,
  moveTenant,
  readTenantStats,
} from './citus/index.js'
