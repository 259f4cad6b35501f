import { describeTenantContract } from '@tenantscope/test-harness'
import { tenantSqlFactory } from './_contract-adapter.js'

describeTenantContract('postgres.js, createTenantSql(postgres(url))', tenantSqlFactory())
describeTenantContract('postgres.js, createTenantSql(postgres(url, { prepare: false }))', tenantSqlFactory({ prepare: false }))
