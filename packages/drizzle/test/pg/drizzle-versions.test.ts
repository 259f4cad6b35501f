// The peer range's older end: the same isolation contract over drizzle-orm
// 0.36 (the floor: pgPolicy arrived there) and 0.44, each with its own
// pg-core, relations and node-postgres driver. 0.45 and 1.0 RC have their
// own files.
import { withTenant } from '@tenantscope/core'
import { tenantDrizzle } from '@tenantscope/drizzle'
import { type ContractAdapter, describeTenantContract } from '@tenantscope/test-harness'
import * as orm036 from 'drizzle-orm-036'
import { drizzle as drizzle036 } from 'drizzle-orm-036/node-postgres'
import * as core036 from 'drizzle-orm-036/pg-core'
import * as orm044 from 'drizzle-orm-044'
import { drizzle as drizzle044 } from 'drizzle-orm-044/node-postgres'
import * as core044 from 'drizzle-orm-044/pg-core'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { appPool, createFixture, type Fixture } from '../fixtures/database.js'
import { databaseError } from '../fixtures/database-error.js'

// Each version's types are its own; the adapter only needs what every
// version has, so it talks to the instances loosely.
type AnyDb = any

const versions = [
  { version: '0.36.4', orm: orm036 as AnyDb, core: core036 as AnyDb, drizzle: drizzle036 as AnyDb },
  { version: '0.44.7', orm: orm044 as AnyDb, core: core044 as AnyDb, drizzle: drizzle044 as AnyDb },
]

for (const { version, orm, core, drizzle } of versions) {
  const { pgTable, uuid, text, primaryKey } = core
  const users = pgTable(
    'users',
    { tenantId: uuid('tenant_id').notNull(), id: uuid('id').notNull(), name: text('name').notNull() },
    (t: AnyDb) => [primaryKey({ columns: [t.tenantId, t.id] })],
  )
  const projects = pgTable(
    'projects',
    {
      tenantId: uuid('tenant_id').notNull().default(orm.sql`NULLIF(current_setting('app.current_tenant', true), '')::uuid`),
      id: uuid('id').notNull().defaultRandom(),
      name: text('name').notNull(),
      ownerId: uuid('owner_id'),
    },
    (t: AnyDb) => [primaryKey({ columns: [t.tenantId, t.id] })],
  )
  const projectsRelations = orm.relations(projects, ({ one }: AnyDb) => ({
    owner: one(users, { fields: [projects.tenantId, projects.ownerId], references: [users.tenantId, users.id] }),
  }))
  const schema = { users, projects, projectsRelations }
  const adapter = (db: AnyDb): ContractAdapter => ({
    insertProject: (name) => databaseError(async () => void (await db.insert(projects).values({ name }))),
    insertProjectFor: (tenantId, name) => databaseError(async () => void (await db.insert(projects).values({ tenantId, name }))),
    listProjects: () => databaseError(() => db.select({ tenant_id: projects.tenantId, name: projects.name }).from(projects)),
    renameProjects: (name) => databaseError(async () => (await db.update(projects).set({ name })).rowCount ?? 0),
    moveProjectsTo: (tenantId) => databaseError(async () => (await db.update(projects).set({ tenantId })).rowCount ?? 0),
    deleteProjects: () => databaseError(async () => (await db.delete(projects)).rowCount ?? 0),
    transaction: (fn) => db.transaction((tx: AnyDb) => fn(adapter(tx))),
    failingStatement: () => databaseError(() => db.execute(orm.sql`SELECT 1 / 0`)),
  })

  describeTenantContract(`Drizzle ${version}, tenantDrizzle(drizzle(pool, { schema }))`, (config) => {
    const rawPool = new pg.Pool(config)
    return { adapter: adapter(tenantDrizzle(drizzle(rawPool, { schema }))), rawPool, end: () => rawPool.end() }
  })

  describe(`tenantDrizzle over drizzle-orm ${version}`, () => {
    let f: Fixture
    let pool: pg.Pool
    let db: AnyDb
    beforeAll(async () => {
      f = await createFixture()
      pool = appPool(f)
      db = tenantDrizzle(drizzle(pool, { schema }))
    })
    afterAll(async () => {
      await pool?.end()
      await f?.end()
    })

    test('relational queries, $count and nested transactions run for the tenant', async () => {
      const found = await withTenant(f.B, () => db.query.projects.findMany({ with: { owner: true } }))
      expect(found).toEqual([expect.objectContaining({ tenantId: f.B, owner: expect.objectContaining({ name: 'Bob' }) })])
      expect(await withTenant(f.A, () => db.$count(projects))).toBe(1)
      const names = await withTenant(f.A, () =>
        db.transaction(async (tx: AnyDb) => {
          await tx.insert(projects).values({ name: 'outer' })
          await tx.transaction(async (inner: AnyDb) => inner.insert(projects).values({ name: 'inner' }))
          return (await tx.select({ name: projects.name }).from(projects)).map((row: { name: string }) => row.name).sort()
        }),
      )
      expect(names).toEqual(['a-project', 'inner', 'outer'])
      await expect(db.select().from(projects)).rejects.toMatchObject({ name: 'TenantScopeError', code: 'TENANT_CONTEXT_MISSING' })
    })
  })
}
