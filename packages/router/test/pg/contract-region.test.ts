import { tenantDrizzle } from '@tenantscope/drizzle'
import { describeTenantContract } from '@tenantscope/test-harness'
import { drizzle } from 'drizzle-orm/node-postgres'
import { drizzleAdapter, routerAdapter } from './_contract-adapters.js'
import { contractFleet } from './_contract-fleet.js'

// The isolation contract through the router for pool tenants pinned to two region databases:
// the same assertions as for pool tenants, each tenant's rows kept where the
// directory says it lives.
const raw = contractFleet(['region'])
describeTenantContract('createTenantRouter, region tenants', (config) => raw.subject(config, routerAdapter), { place: raw.place })

const orm = contractFleet(['region'])
describeTenantContract(
  'tenantDrizzle(drizzle(createTenantRouter(...))), region tenants',
  (config) => orm.subject(config, (router) => drizzleAdapter(tenantDrizzle(drizzle(router)))),
  { place: orm.place },
)
