import { createTenantPool, type TenantPoolClient } from '@tenantscope/core'
import { type ContractAdapter, describeTenantContract } from '@tenantscope/test-harness'
import pg from 'pg'

type Queryable = Pick<TenantPoolClient, 'query'>

function adapterOver(db: Queryable, transaction: ContractAdapter['transaction']): ContractAdapter {
  return {
    insertProject: async (name) => {
      await db.query('INSERT INTO projects (name) VALUES ($1)', [name])
    },
    insertProjectFor: async (tenantId, name) => {
      await db.query('INSERT INTO projects (tenant_id, name) VALUES ($1, $2)', [tenantId, name])
    },
    listProjects: async () => (await db.query('SELECT tenant_id, name FROM projects ORDER BY created_at, name')).rows,
    renameProjects: async (name) => (await db.query('UPDATE projects SET name = $1', [name])).rowCount ?? 0,
    moveProjectsTo: async (tenantId) => (await db.query('UPDATE projects SET tenant_id = $1', [tenantId])).rowCount ?? 0,
    deleteProjects: async () => (await db.query('DELETE FROM projects')).rowCount ?? 0,
    failingStatement: () => db.query('SELECT 1 / 0'),
    transaction,
  }
}

describeTenantContract('TenantPool', (config) => {
  const rawPool = new pg.Pool(config)
  const pool = createTenantPool(rawPool)
  const adapter: ContractAdapter = adapterOver(pool, (fn) =>
    pool.transaction((client) => fn(adapterOver(client, () => Promise.reject(new Error('no nested transactions'))))),
  )
  return { adapter, rawPool, end: () => pool.end() }
})

// Users' statements prepared once per connection: the same isolation.
describeTenantContract('TenantPool with prepareStatements', (config) => {
  const rawPool = new pg.Pool(config)
  const pool = createTenantPool(rawPool, { prepareStatements: true })
  const adapter: ContractAdapter = adapterOver(pool, (fn) =>
    pool.transaction((client) => fn(adapterOver(client, () => Promise.reject(new Error('no nested transactions'))))),
  )
  return { adapter, rawPool, end: () => pool.end() }
})
