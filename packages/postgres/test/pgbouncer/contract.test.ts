import { tenantSocket } from '@tenantscope/postgres'
import { describeTenantContract, type PgBouncer, startPgBouncer } from '@tenantscope/test-harness'
import { afterAll, beforeAll, describe, inject } from 'vitest'
import { tenantSqlFactory } from '../pg/_contract-adapter.js'

// PgBouncer before 1.21 does not follow named statements from one server
// connection to the next in transaction mode: postgres.js users there set
// prepare: false, as postgres.js's README says.
describe('postgres.js through PgBouncer in transaction mode', () => {
  let bouncer: PgBouncer | undefined
  beforeAll(async () => {
    bouncer = await startPgBouncer(inject('tenantscope').adminUrl, { poolSize: 2 })
  })
  afterAll(async () => {
    await bouncer?.stop()
  })
  describeTenantContract(
    'postgres.js through PgBouncer (transaction mode), createTenantSql(postgres(url, { prepare: false }))',
    tenantSqlFactory({ prepare: false }, (url) => bouncer!.url(url)),
    { throughPooler: true, waitForKilledBackends: false },
  )
  // The setter is parsed and closed again with each statement, before its Sync: one server connection.
  describeTenantContract(
    'postgres.js through PgBouncer (transaction mode), createTenantSql(postgres(url, tenantSocket({ prepare: false })))',
    tenantSqlFactory(tenantSocket({ prepare: false }), (url) => bouncer!.url(url)),
    { throughPooler: true, waitForKilledBackends: false },
  )
})
