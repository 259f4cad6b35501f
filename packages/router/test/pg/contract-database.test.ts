import { tenantDrizzle } from '@tenantscope/drizzle'
import { describeTenantContract } from '@tenantscope/test-harness'
import { drizzle } from 'drizzle-orm/node-postgres'
import { drizzleAdapter, routerAdapter } from './_contract-adapters.js'
import { contractFleet } from './_contract-fleet.js'

// The isolation contract through the router for a database per tenant (20 databases, under a cap of the contract's pool size):
// the same assertions as for pool tenants, each tenant's rows kept where the
// directory says it lives.
const raw = contractFleet(['database'])
describeTenantContract('createTenantRouter, database tenants', (config) => raw.subject(config, routerAdapter), { place: raw.place })

const orm = contractFleet(['database'])
describeTenantContract(
  'tenantDrizzle(drizzle(createTenantRouter(...))), database tenants',
  (config) => orm.subject(config, (router) => drizzleAdapter(tenantDrizzle(drizzle(router)))),
  { place: orm.place },
)
