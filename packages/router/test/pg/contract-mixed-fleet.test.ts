import { tenantDrizzle } from '@tenantscope/drizzle'
import { describeTenantContract } from '@tenantscope/test-harness'
import { drizzle } from 'drizzle-orm/node-postgres'
import { drizzleAdapter, routerAdapter } from './_contract-adapters.js'
import { contractFleet } from './_contract-fleet.js'

// The isolation contract through the router for database, schema, region and pool tenants under one router (A is a database tenant, B a schema tenant):
// the same assertions as for pool tenants, each tenant's rows kept where the
// directory says it lives.
const raw = contractFleet(['database', 'schema', 'region', 'pool'])
describeTenantContract('createTenantRouter, a mixed fleet', (config) => raw.subject(config, routerAdapter), { place: raw.place })

const orm = contractFleet(['database', 'schema', 'region', 'pool'])
describeTenantContract(
  'tenantDrizzle(drizzle(createTenantRouter(...))), a mixed fleet',
  (config) => orm.subject(config, (router) => drizzleAdapter(tenantDrizzle(drizzle(router)))),
  { place: orm.place },
)
