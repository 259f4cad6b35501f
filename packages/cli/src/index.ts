// The doctor lives in @tenantscope/doctor; this package is its command line.
// Its API stays importable from here, as it was before the split.
export {
  runDoctor,
  hasFindingsAtLeast,
  isAtLeast,
  DoctorError,
  formatReport,
  type DoctorOptions,
  type DoctorReport,
  type DoctorQueryable,
  type Finding,
  type FindingCode,
  type ObjectType,
  type Severity,
  type DoctorErrorCode,
} from '@tenantscope/doctor'
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
