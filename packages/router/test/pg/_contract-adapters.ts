import { TenantScopeError } from '@tenantscope/core'
import type { TenantRouter } from '@tenantscope/router'
import type { ContractAdapter } from '@tenantscope/test-harness'
import { sql } from 'drizzle-orm'
import type { NodePgDatabase } from 'drizzle-orm/node-postgres'
import type { PgTransaction } from 'drizzle-orm/pg-core'
import { pgTable, text, uuid } from 'drizzle-orm/pg-core'
import type pg from 'pg'

// The contract's operations through the router, raw and through Drizzle:
// the same application code for every kind of tenant.
export function routerAdapter(router: TenantRouter | pg.PoolClient): ContractAdapter {
  return {
    insertProject: async (name) => void (await router.query(`INSERT INTO projects (name) VALUES ($1)`, [name])),
    insertProjectFor: async (tenantId, name) =>
      void (await router.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, $2)`, [tenantId, name])),
    listProjects: async () => (await router.query(`SELECT tenant_id, name FROM projects`)).rows,
    renameProjects: async (name) => (await router.query(`UPDATE projects SET name = $1`, [name])).rowCount ?? 0,
    moveProjectsTo: async (tenantId) => (await router.query(`UPDATE projects SET tenant_id = $1`, [tenantId])).rowCount ?? 0,
    deleteProjects: async () => (await router.query(`DELETE FROM projects`)).rowCount ?? 0,
    transaction: (fn) => (router as TenantRouter).transaction((tx) => fn(routerAdapter(tx as unknown as pg.PoolClient))),
    failingStatement: () => router.query(`SELECT 1 / 0`),
  }
}

// Through Drizzle over the router: tenantDrizzle(drizzle(router)).
const projects = pgTable('projects', {
  tenantId: uuid('tenant_id').notNull().default(sql`(NULLIF(current_setting('app.current_tenant', true), ''))::uuid`),
  id: uuid('id').notNull().defaultRandom(),
  name: text('name').notNull(),
})
type Db = NodePgDatabase | PgTransaction<any, any, any>

// Drizzle wraps database errors (DrizzleQueryError); the contract speaks of the database's own.
async function databaseError<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (error) {
    const { constructor, cause } = error as { constructor?: { name?: string }; cause?: unknown }
    throw constructor?.name === 'DrizzleQueryError' && cause && !TenantScopeError.is(cause) ? cause : error
  }
}

export function drizzleAdapter(db: Db): ContractAdapter {
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
