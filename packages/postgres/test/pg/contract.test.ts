import { tenantSocket } from '@tenantscope/postgres'
import { describeTenantContract } from '@tenantscope/test-harness'
import { tenantSqlFactory } from './_contract-adapter.js'

// postgres.js 3.4 crashes on a statement sent over a connection it saw close: see ContractOptions.
const POSTGRES_JS = { waitForKilledBackends: false }

describeTenantContract('postgres.js, createTenantSql(postgres(url))', tenantSqlFactory(), POSTGRES_JS)
describeTenantContract('postgres.js, createTenantSql(postgres(url, { prepare: false }))', tenantSqlFactory({ prepare: false }), POSTGRES_JS)
describeTenantContract('postgres.js, createTenantSql(postgres(url, tenantSocket()))', tenantSqlFactory(tenantSocket()), POSTGRES_JS)
describeTenantContract(
  'postgres.js, createTenantSql(postgres(url, tenantSocket({ prepare: false })))',
  tenantSqlFactory(tenantSocket({ prepare: false })),
  POSTGRES_JS,
)
