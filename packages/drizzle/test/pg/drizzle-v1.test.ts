// The same wrapper over drizzle-orm 1.0 (release candidate): tenantDrizzle
// builds the scoped copy from the instance's own classes, so it works with
// whichever drizzle-orm the user has installed.
import { TenantPool, withTenant } from '@tenantscope/core'
import { tenantDrizzle } from '@tenantscope/drizzle'
import { type ContractAdapter, describeTenantContract } from '@tenantscope/test-harness'
import { eq, sql } from 'drizzle-orm-v1'
import { drizzle } from 'drizzle-orm-v1/node-postgres'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { appPool, createFixture, type Fixture } from '../fixtures/database.js'
import { databaseError } from '../fixtures/database-error.js'
import { projects, relations } from '../fixtures/schema-v1.js'

function makeDb(client: pg.Pool) {
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

describeTenantContract('Drizzle 1.0 RC, tenantDrizzle(drizzle({ client, relations }))', (config) => {
  const rawPool = new pg.Pool(config)
  return { adapter: adapter(tenantDrizzle(makeDb(rawPool))), rawPool, end: () => rawPool.end() }
})

describe('tenantDrizzle over drizzle-orm 1.0 RC', () => {
  let f: Fixture
  let pool: pg.Pool
  let db: Db

  beforeAll(async () => {
    f = await createFixture()
    pool = appPool(f)
    db = tenantDrizzle(makeDb(pool))
  })
  afterAll(async () => {
    await pool?.end()
    await f?.end()
  })

  test('relational queries v2, $count and execute run for the tenant', async () => {
    const found = await withTenant(f.B, () => db.query.projects.findMany({ with: { owner: true } }))
    expect(found).toEqual([expect.objectContaining({ tenantId: f.B, name: 'b-project', owner: expect.objectContaining({ name: 'Bob' }) })])
    expect(await withTenant(f.A, () => db.$count(projects))).toBe(1)
    const { rows } = await withTenant(f.A, () =>
      db.execute<{ tenant: string }>(sql`SELECT current_setting('app.current_tenant') AS tenant`),
    )
    expect(rows).toEqual([{ tenant: f.A }])
    expect(db.$client).toBeInstanceOf(TenantPool)
  })

  test('nested transactions are savepoints of one tenant-scoped transaction', async () => {
    const names = await withTenant(f.A, () =>
      db.transaction(async (tx) => {
        await tx.insert(projects).values({ name: 'v1-outer' })
        await expect(
          tx.transaction(async (inner) => {
            await inner.insert(projects).values({ name: 'v1-inner' })
            throw new Error('undo')
          }),
        ).rejects.toThrow('undo')
        return (await tx.select({ name: projects.name }).from(projects).where(eq(projects.tenantId, f.A))).map((r) => r.name).sort()
      }),
    )
    expect(names).toEqual(['a-project', 'v1-outer'])
  })

  test('outside withTenant: TENANT_CONTEXT_MISSING, unwrapped, before a connection is taken', async () => {
    const fresh = appPool(f)
    try {
      const scoped = tenantDrizzle(makeDb(fresh))
      for (const attempt of [
        () => scoped.select().from(projects),
        () => scoped.query.projects.findMany(),
        () => scoped.execute(sql`SELECT 1`),
        () => scoped.transaction(async (tx) => tx.select().from(projects)),
      ] as Array<() => PromiseLike<unknown>>) {
        await expect(Promise.resolve().then(attempt)).rejects.toMatchObject({ name: 'TenantScopeError', code: 'TENANT_CONTEXT_MISSING' })
      }
      expect(fresh.totalCount).toBe(0)
    } finally {
      await fresh.end()
    }
  })
})
