export type { CitusCluster, CitusNode } from './citus-cluster.js'
export { CITUS_PGBIN, citusUnavailableReason, startCitusCluster } from './citus-cluster.js'
export type { CitusTestDatabase, CitusTestDatabaseOptions } from './citus-database.js'
export { createCitusDatabase, createCitusTestDatabase, DISTRIBUTE_EXAMPLE_SQL } from './citus-database.js'
export { citusProjectInclude } from './citus-project.js'
export type {
  ContractAdapter,
  ContractFactory,
  ContractOptions,
  ContractPlace,
  ContractPlacement,
  ContractSubject,
  ProjectRow,
  RawQueryable,
} from './contract.js'
export { badTenantIds, describeTenantContract } from './contract.js'
export { freePort } from './free-port.js'
export type { HarnessInfo } from './harness-info.js'
export type { VersionedServer } from './pg-versions.js'
export { PG_VERSIONS, useVersionedServer } from './pg-versions.js'
export type { PgBouncer, PgBouncerOptions, PgBouncerSetup } from './pgbouncer.js'
export { findPgBouncer, startPgBouncer, startPgBouncerWithIni } from './pgbouncer.js'
export { pgbouncerProjectInclude } from './pgbouncer-project.js'
export { startPrivateServer } from './private-server.js'
export { APP_ROLE, MAINTENANCE_ROLE } from './roles.js'
export type { PostgresServer } from './server.js'
export { resolveServer } from './server.js'
export { createTemplate, dropDatabases } from './template.js'
export type { TestDatabase } from './test-database.js'
export { createTestDatabase } from './test-database.js'
export { throughLocalPort, withDatabase } from './urls.js'
export type { WireCounter } from './wire-counter.js'
export { startWireCounter } from './wire-counter.js'
export { withClient } from './with-client.js'
