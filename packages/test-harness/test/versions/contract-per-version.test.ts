import { createTenantPool, type TenantPoolClient } from '@tenantscope/core'
import pg from 'pg'
import { describe, expect, test } from 'vitest'
import { type ContractAdapter, describeTenantContract, PG_VERSIONS, useVersionedServer } from '../../src/index.js'

type Queryable = Pick<TenantPoolClient, 'query'>

// The core pool's contract, as in packages/core, on each supported major.
function adapterOver(db: Queryable, transaction: ContractAdapter['transaction']): ContractAdapter {
  return {
    insertProject: async (name) => void (await db.query('INSERT INTO projects (name) VALUES ($1)', [name])),
    insertProjectFor: async (tenantId, name) =>
      void (await db.query('INSERT INTO projects (tenant_id, name) VALUES ($1, $2)', [tenantId, name])),
    listProjects: async () => (await db.query('SELECT tenant_id, name FROM projects ORDER BY created_at, name')).rows,
    renameProjects: async (name) => (await db.query('UPDATE projects SET name = $1', [name])).rowCount ?? 0,
    moveProjectsTo: async (tenantId) => (await db.query('UPDATE projects SET tenant_id = $1', [tenantId])).rowCount ?? 0,
    deleteProjects: async () => (await db.query('DELETE FROM projects')).rowCount ?? 0,
    failingStatement: () => db.query('SELECT 1 / 0'),
    transaction,
  }
}

// One server at a time (this project runs its files one by one), each
// started before its suite and stopped after it.
describe.each(PG_VERSIONS)('PostgreSQL $major', ({ major, packageName }) => {
  const server = useVersionedServer(packageName)

  test(`${packageName} runs PostgreSQL ${major}`, () => {
    expect(Math.floor(server.versionNum / 10_000)).toBe(major)
  })

  describeTenantContract(
    `TenantPool on PostgreSQL ${major}`,
    (config) => {
      const rawPool = new pg.Pool(config)
      const pool = createTenantPool(rawPool)
      const adapter = adapterOver(pool, (fn) =>
        pool.transaction((client) => fn(adapterOver(client, () => Promise.reject(new Error('no nested transactions'))))),
      )
      return { adapter, rawPool, end: () => pool.end() }
    },
    { harness: () => server.info },
  )
})
