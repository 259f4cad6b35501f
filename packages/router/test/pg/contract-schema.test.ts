import { tenantDrizzle } from '@tenantscope/drizzle'
import { describeTenantContract } from '@tenantscope/test-harness'
import { drizzle } from 'drizzle-orm/node-postgres'
import { drizzleAdapter, routerAdapter } from './_contract-adapters.js'
import { contractFleet } from './_contract-fleet.js'

// The isolation contract through the router for a schema and a role of its own per tenant:
// the same assertions as for pool tenants, each tenant's rows kept where the
// directory says it lives.
const raw = contractFleet(['schema'])
describeTenantContract('createTenantRouter, schema tenants', (config) => raw.subject(config, routerAdapter), { place: raw.place })

const orm = contractFleet(['schema'])
describeTenantContract(
  'tenantDrizzle(drizzle(createTenantRouter(...))), schema tenants',
  (config) => orm.subject(config, (router) => drizzleAdapter(tenantDrizzle(drizzle(router)))),
  { place: orm.place },
)
