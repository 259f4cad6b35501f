import { TenantScopeError, withTenant } from '@tenantscope/core'
import { tenantDrizzle } from '@tenantscope/drizzle'
import { createTenantSql } from '@tenantscope/postgres'
import {
  type ContractAdapter,
  createTestDatabase,
  describeTenantContract,
  type RawQueryable,
  type TestDatabase,
} from '@tenantscope/test-harness'
import { eq, sql } from 'drizzle-orm'
import type { PgTransaction } from 'drizzle-orm/pg-core'
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { databaseError } from '../fixtures/database-error.js'
import * as schema from '../fixtures/schema.js'

const { projects, tenants } = schema

type Db = PostgresJsDatabase<typeof schema> | PgTransaction<any, typeof schema, any>

// postgres-js results are postgres.js RowLists: the row count is `count`.
function drizzleAdapter(db: Db): ContractAdapter {
  return {
    insertProject: (name) => databaseError(async () => void (await db.insert(projects).values({ name }))),
    insertProjectFor: (tenantId, name) => databaseError(async () => void (await db.insert(projects).values({ tenantId, name }))),
    listProjects: () => databaseError(() => db.select({ tenant_id: projects.tenantId, name: projects.name }).from(projects)),
    renameProjects: (name) => databaseError(async () => (await db.update(projects).set({ name })).count),
    moveProjectsTo: (tenantId) => databaseError(async () => (await db.update(projects).set({ tenantId })).count),
    deleteProjects: () => databaseError(async () => (await db.delete(projects)).count),
    transaction: (fn) => db.transaction((tx) => fn(drizzleAdapter(tx))),
    failingStatement: () => databaseError(() => db.execute(sql`SELECT 1 / 0`)),
  }
}

// postgres.js 3.4 crashes on a statement sent over a connection it saw close: see ContractOptions.
const POSTGRES_JS = { waitForKilledBackends: false }

const rawQueryable = (client: postgres.Sql): RawQueryable => ({ query: async (text) => ({ rows: [...(await client.unsafe(text))] }) })

describeTenantContract(
  'Drizzle 0.x postgres-js, tenantDrizzle(drizzle(createTenantSql(postgres(url)), { schema }))',
  (config) => {
    const client = postgres(config.connectionString!, { max: config.max, onnotice: () => undefined })
    const db = tenantDrizzle(drizzle(createTenantSql(client), { schema }))
    return { adapter: drizzleAdapter(db), rawPool: rawQueryable(client), end: () => client.end({ timeout: 5 }) }
  },
  POSTGRES_JS,
)

describeTenantContract(
  'Drizzle 0.x postgres-js, tenantDrizzle(drizzle(postgres(url), { schema }))',
  (config) => {
    const client = postgres(config.connectionString!, { max: config.max, onnotice: () => undefined })
    const db = tenantDrizzle(drizzle(client, { schema }))
    return { adapter: drizzleAdapter(db), rawPool: rawQueryable(client), end: () => client.end({ timeout: 5 }) }
  },
  POSTGRES_JS,
)

describe('tenantDrizzle over postgres-js', () => {
  let database: TestDatabase
  let client: postgres.Sql
  const tenant = '6f1c1b53-5d0e-4c2a-9a57-1f1d8f1b2c3d'

  beforeAll(async () => {
    database = await createTestDatabase()
    const admin = postgres(database.adminUrl, { max: 1, onnotice: () => undefined })
    await admin`INSERT INTO tenants (id, name) VALUES (${tenant}, 'acme')`
    await admin.end()
    client = postgres(database.appUrl, { max: 2, onnotice: () => undefined })
  })
  afterAll(async () => {
    await client?.end({ timeout: 5 })
    await database?.drop()
  })

  test('relational queries, isolation levels and nested transactions run for the tenant', async () => {
    const db = tenantDrizzle(drizzle(client, { schema }))
    await withTenant(tenant, () => db.insert(projects).values({ name: 'p1' }))
    const found = await withTenant(tenant, () => db.query.projects.findMany({ columns: { name: true }, with: { invoices: true } }))
    expect(found).toEqual([{ name: 'p1', invoices: [] }])
    const seen = await withTenant(tenant, () =>
      db.transaction(
        async (tx) => {
          const [isolation] = await tx.execute<{ level: string }>(sql`SELECT current_setting('transaction_isolation') AS level`)
          const nested = await tx.transaction((inner) =>
            inner.select({ name: projects.name }).from(projects).where(eq(projects.name, 'p1')),
          )
          return { level: isolation!.level, nested }
        },
        { isolationLevel: 'serializable' },
      ),
    )
    expect(seen).toEqual({ level: 'serializable', nested: [{ name: 'p1' }] })
    expect(await withTenant(tenant, () => db.$count(tenants))).toBe(1)
  })

  test("refusals come out as tenantscope's own errors, not wrapped by Drizzle", async () => {
    const db = tenantDrizzle(drizzle(client, { schema }))
    await expect(db.select().from(projects)).rejects.toSatisfy((error) => TenantScopeError.is(error, 'TENANT_CONTEXT_MISSING'))
    await expect(db.transaction((tx) => tx.select().from(projects))).rejects.toSatisfy((error) =>
      TenantScopeError.is(error, 'TENANT_CONTEXT_MISSING'),
    )
    await expect(withTenant('not-a-uuid', () => db.execute(sql`SELECT 1`))).rejects.toSatisfy((error) =>
      TenantScopeError.is(error, 'INVALID_TENANT_ID'),
    )
  })

  test('options go to createTenantSql; a scoped client takes none', () => {
    const isConfig = (error: unknown) => TenantScopeError.is(error, 'INVALID_CONFIG')
    expect(() => tenantDrizzle(drizzle(createTenantSql(client)), {})).toThrow(expect.toSatisfy(isConfig))
    expect(() => tenantDrizzle(drizzle(client), { setting: 'not a setting' })).toThrow(expect.toSatisfy(isConfig))
  })
})
