import { createTenantDirectory, createTenantRouter, type TenantRouter } from '@tenantscope/router'
import { describeTenantContract, type ContractAdapter } from '@tenantscope/test-harness'
import pg from 'pg'

// The isolation contract (fail closed, transactions, killed backends, the
// concurrency property) through the router, for pool tenants: every tenant
// the contract makes up is in the directory as a shared-schema tenant.
function routerAdapter(router: TenantRouter | pg.PoolClient): ContractAdapter {
  return {
    insertProject: async (name) => void (await router.query(`INSERT INTO projects (name) VALUES ($1)`, [name])),
    insertProjectFor: async (tenantId, name) => void (await router.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, $2)`, [tenantId, name])),
    listProjects: async () => (await router.query(`SELECT tenant_id, name FROM projects`)).rows,
    renameProjects: async (name) => (await router.query(`UPDATE projects SET name = $1`, [name])).rowCount ?? 0,
    moveProjectsTo: async (tenantId) => (await router.query(`UPDATE projects SET tenant_id = $1`, [tenantId])).rowCount ?? 0,
    deleteProjects: async () => (await router.query(`DELETE FROM projects`)).rowCount ?? 0,
    transaction: (fn) => (router as TenantRouter).transaction((tx) => fn(routerAdapter(tx as unknown as pg.PoolClient))),
    failingStatement: () => router.query(`SELECT 1 / 0`),
  }
}

describeTenantContract('createTenantRouter, pool tenants', (config) => {
  const rawPool = new pg.Pool(config)
  const directory = createTenantDirectory((tenantId) => ({ tenantId, strategy: 'pool', state: 'active' }))
  const router = createTenantRouter({ directory, pool: rawPool })
  return { adapter: routerAdapter(router), rawPool, end: () => router.end() }
})
