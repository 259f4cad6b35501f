import { createTenantPool, type TenantPoolClient, TenantScopeError } from '@tenantscope/core'
import { tenantDrizzle } from '@tenantscope/drizzle'
import { type ContractAdapter, createCitusTestDatabase, describeTenantContract } from '@tenantscope/test-harness'
import { sql } from 'drizzle-orm'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import type { PgTransaction } from 'drizzle-orm/pg-core'
import pg from 'pg'
import * as schema from './fixtures/schema.js'

// The isolation contract (fail closed, WITH CHECK, transactions, killed
// backends, 200 concurrent tasks over 20 tenants) on the 3-node cluster, in
// Citus mode, through the raw pool and through Drizzle.
// Citus refuses an UPDATE of the distribution column (0A000) before RLS would (42501).
const onCitus = { createDatabase: () => createCitusTestDatabase(), moveRefusedWith: ['0A000'] }

type Queryable = Pick<TenantPoolClient, 'query'>

function poolAdapter(db: Queryable, transaction: ContractAdapter['transaction']): ContractAdapter {
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

describeTenantContract(
  'TenantPool in Citus mode',
  (config) => {
    const rawPool = new pg.Pool(config)
    const pool = createTenantPool(rawPool, { citus: true })
    const adapter = poolAdapter(pool, (fn) =>
      pool.transaction((client) => fn(poolAdapter(client, () => Promise.reject(new Error('no nested transactions'))))),
    )
    return { adapter, rawPool, end: () => pool.end() }
  },
  onCitus,
)

type Db = NodePgDatabase<typeof schema> | PgTransaction<any, typeof schema, any>
const { projects } = schema

// Drizzle 0.44+ wraps database errors; the contract speaks of the database's SQLSTATE.
async function databaseError<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (error) {
    const { constructor, cause } = error as { constructor?: { name?: string }; cause?: unknown }
    throw constructor?.name === 'DrizzleQueryError' && cause && !TenantScopeError.is(cause) ? cause : error
  }
}

function drizzleAdapter(db: Db): ContractAdapter {
  return {
    insertProject: (name) => databaseError(async () => void (await db.insert(projects).values({ name }))),
    insertProjectFor: (tenantId, name) => databaseError(async () => void (await db.insert(projects).values({ tenantId, name }))),
    listProjects: () => databaseError(() => db.select({ tenant_id: projects.tenantId, name: projects.name }).from(projects)),
    renameProjects: (name) => databaseError(async () => (await db.update(projects).set({ name })).rowCount ?? 0),
    moveProjectsTo: (tenantId) => databaseError(async () => (await db.update(projects).set({ tenantId })).rowCount ?? 0),
    deleteProjects: () => databaseError(async () => (await db.delete(projects)).rowCount ?? 0),
    transaction: (fn) => db.transaction((tx) => fn(drizzleAdapter(tx))),
    failingStatement: () => databaseError(() => db.execute(sql`SELECT 1 / 0`)),
  }
}

describeTenantContract(
  'Drizzle in Citus mode, tenantDrizzle(drizzle(pool, { schema }), { citus: true })',
  (config) => {
    const rawPool = new pg.Pool(config)
    const db = tenantDrizzle(drizzle(rawPool, { schema }), { citus: true })
    return { adapter: drizzleAdapter(db), rawPool, end: () => rawPool.end() }
  },
  onCitus,
)
