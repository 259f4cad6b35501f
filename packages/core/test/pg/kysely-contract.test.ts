import { randomUUID } from 'node:crypto'
import { createTenantPool, withTenant } from '@tenantscope/core'
import { type ContractAdapter, createTestDatabase, describeTenantContract, type TestDatabase, withClient } from '@tenantscope/test-harness'
import { type Generated, Kysely, PostgresDialect, sql, type Transaction } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

// The recipe in docs/recipes/kysely.md, run through the same contract as the raw pool and Drizzle.
interface Database {
  projects: { tenant_id: Generated<string>; id: Generated<string>; name: string; created_at: Generated<Date> }
}

function kyselyAdapter(db: Kysely<Database> | Transaction<Database>): ContractAdapter {
  return {
    insertProject: async (name) => void (await db.insertInto('projects').values({ name }).execute()),
    insertProjectFor: async (tenantId, name) => void (await db.insertInto('projects').values({ tenant_id: tenantId, name }).execute()),
    listProjects: () => db.selectFrom('projects').select(['tenant_id', 'name']).orderBy('created_at').orderBy('name').execute(),
    renameProjects: async (name) => Number((await db.updateTable('projects').set({ name }).executeTakeFirstOrThrow()).numUpdatedRows),
    moveProjectsTo: async (tenantId) =>
      Number((await db.updateTable('projects').set({ tenant_id: tenantId }).executeTakeFirstOrThrow()).numUpdatedRows),
    deleteProjects: async () => Number((await db.deleteFrom('projects').executeTakeFirstOrThrow()).numDeletedRows),
    transaction: (fn) => db.transaction().execute((trx) => fn(kyselyAdapter(trx))),
    failingStatement: () => sql`SELECT 1 / 0`.execute(db),
  }
}

describeTenantContract('Kysely, new Kysely({ dialect: new PostgresDialect({ pool: tenantPool }) })', (config) => {
  const rawPool = new pg.Pool(config)
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: createTenantPool(rawPool) }) })
  const end = async () => {
    await db.destroy()
    // Kysely only takes the pool on its first query: a Kysely that ran none leaves it open.
    if (!rawPool.ending) await rawPool.end()
  }
  return { adapter: kyselyAdapter(db), rawPool, end }
})

describe('Kysely transactions on a TenantPool', () => {
  let db: TestDatabase
  let kysely: Kysely<Database>
  const tenant = randomUUID()

  beforeAll(async () => {
    db = await createTestDatabase()
    await withClient(db.adminUrl, (admin) => admin.query(`INSERT INTO tenants (id, name) VALUES ($1, 'k')`, [tenant]))
    kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool: createTenantPool({ connectionString: db.appUrl, max: 1 }) }) })
  })
  afterAll(async () => {
    await kysely?.destroy()
    await db?.drop()
  })

  test.each(['read committed', 'repeatable read', 'serializable'] as const)(
    'setIsolationLevel(%s) takes effect and every statement of the transaction runs for the tenant',
    async (level) => {
      const seen = await withTenant(tenant, () =>
        kysely
          .transaction()
          .setIsolationLevel(level)
          .execute(async (trx) => {
            await trx.insertInto('projects').values({ name: level }).execute()
            const { rows } = await sql<{ level: string; tenant: string }>`
              SELECT current_setting('transaction_isolation') AS level, current_setting('app.current_tenant') AS tenant`.execute(trx)
            const projects = await trx.selectFrom('projects').select('tenant_id').where('name', '=', level).execute()
            return { ...rows[0], projects }
          }),
      )
      expect(seen).toEqual({ level, tenant, projects: [{ tenant_id: tenant }] })
    },
  )

  test('setAccessMode(read only) is honoured: a write inside it is refused by PostgreSQL (25006)', async () => {
    const attempt = withTenant(tenant, () =>
      kysely
        .transaction()
        .setAccessMode('read only')
        .execute((trx) => trx.insertInto('projects').values({ name: 'read only' }).execute()),
    )
    await expect(attempt).rejects.toMatchObject({ code: '25006' })
  })
})
