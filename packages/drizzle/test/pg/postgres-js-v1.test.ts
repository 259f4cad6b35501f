// Drizzle 1.0 (release candidate) over postgres-js: tenantDrizzle builds the
// scoped copy from the instance's own classes, whichever drizzle-orm it is.
import { tenantDrizzle } from '@tenantscope/drizzle'
import { createTenantSql } from '@tenantscope/postgres'
import { type ContractAdapter, describeTenantContract, type RawQueryable } from '@tenantscope/test-harness'
import { sql } from 'drizzle-orm-v1'
import { drizzle } from 'drizzle-orm-v1/postgres-js'
import postgres from 'postgres'
import { databaseError } from '../fixtures/database-error.js'
import { projects, relations } from '../fixtures/schema-v1.js'

function makeDb(client: postgres.Sql) {
  return drizzle({ client, relations })
}
type Db = ReturnType<typeof makeDb>
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]

function adapter(db: Db | Tx): ContractAdapter {
  return {
    insertProject: (name) => databaseError(async () => void (await db.insert(projects).values({ name }))),
    insertProjectFor: (tenantId, name) => databaseError(async () => void (await db.insert(projects).values({ tenantId, name }))),
    listProjects: () => databaseError(() => db.select({ tenant_id: projects.tenantId, name: projects.name }).from(projects)),
    renameProjects: (name) => databaseError(async () => (await db.update(projects).set({ name }).returning({ id: projects.id })).length),
    moveProjectsTo: (tenantId) =>
      databaseError(async () => (await db.update(projects).set({ tenantId }).returning({ id: projects.id })).length),
    deleteProjects: () => databaseError(async () => (await db.delete(projects).returning({ id: projects.id })).length),
    transaction: (fn) => db.transaction((tx) => fn(adapter(tx))),
    failingStatement: () => databaseError(() => db.execute(sql`SELECT 1 / 0`)),
  }
}

// postgres.js 3.4 crashes on a statement sent over a connection it saw close: see ContractOptions.
const POSTGRES_JS = { waitForKilledBackends: false }

const rawQueryable = (client: postgres.Sql): RawQueryable => ({ query: async (text) => ({ rows: [...(await client.unsafe(text))] }) })

describeTenantContract(
  'Drizzle 1.0 RC postgres-js, tenantDrizzle(drizzle({ client: createTenantSql(postgres(url)), relations }))',
  (config) => {
    const client = postgres(config.connectionString!, { max: config.max, onnotice: () => undefined })
    return {
      adapter: adapter(tenantDrizzle(makeDb(createTenantSql(client)))),
      rawPool: rawQueryable(client),
      end: () => client.end({ timeout: 5 }),
    }
  },
  POSTGRES_JS,
)
