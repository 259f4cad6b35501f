import type { TenantPool } from '@tenantscope/core'
import { createTenantDrizzle, tenantDrizzle } from '@tenantscope/drizzle'
import { type ContractAdapter, describeTenantContract } from '@tenantscope/test-harness'
import { sql } from 'drizzle-orm'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import type { PgTransaction } from 'drizzle-orm/pg-core'
import pg from 'pg'
import { databaseError } from '../fixtures/database-error.js'
import * as schema from '../fixtures/schema.js'

const { projects } = schema

type Db = NodePgDatabase<typeof schema> | PgTransaction<any, typeof schema, any>

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

describeTenantContract('Drizzle 0.x, tenantDrizzle(drizzle(pool, { schema }))', (config) => {
  const rawPool = new pg.Pool(config)
  const db = tenantDrizzle(drizzle(rawPool, { schema }))
  return { adapter: drizzleAdapter(db), rawPool, end: () => rawPool.end() }
})

describeTenantContract('Drizzle 0.x, createTenantDrizzle(config, { schema })', (config) => {
  const db = createTenantDrizzle(config, { schema })
  const rawPool = (db.$client as TenantPool).unscopedPool
  return { adapter: drizzleAdapter(db), rawPool, end: () => db.$client.end() }
})
