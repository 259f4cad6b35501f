import { tenantDrizzle } from '@tenantscope/drizzle'
import { createTenantDirectory, createTenantRouter } from '@tenantscope/router'
import { describeTenantContract } from '@tenantscope/test-harness'
import { drizzle } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { drizzleAdapter, routerAdapter } from './_contract-adapters.js'

// The isolation contract (fail closed, transactions, killed backends, the
// concurrency property) through the router, for pool tenants: every tenant
// the contract makes up is in the directory as a shared-schema tenant.
describeTenantContract('createTenantRouter, pool tenants', (config) => {
  const rawPool = new pg.Pool(config)
  const directory = createTenantDirectory((tenantId) => ({ tenantId, strategy: 'pool', state: 'active' }))
  const router = createTenantRouter({ directory, pool: rawPool })
  return { adapter: routerAdapter(router), rawPool, end: () => router.end() }
})

// The same contract through Drizzle over the router: tenantDrizzle(drizzle(router)).
describeTenantContract('tenantDrizzle(drizzle(createTenantRouter(...))), pool tenants', (config) => {
  const rawPool = new pg.Pool(config)
  const directory = createTenantDirectory((tenantId) => ({ tenantId, strategy: 'pool', state: 'active' }))
  const router = createTenantRouter({ directory, pool: rawPool })
  return { adapter: drizzleAdapter(tenantDrizzle(drizzle(router))), rawPool, end: () => router.end() }
})
