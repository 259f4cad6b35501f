import { randomUUID } from 'node:crypto'
import { createTenantPool, getTenantId, type TenantPool, withTenant } from '@tenantscope/core'
import { createTenantDrizzle, tenantDrizzle } from '@tenantscope/drizzle'
import { type CitusTestDatabase, createCitusTestDatabase } from '@tenantscope/test-harness'
import { desc, eq } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import * as schema from './fixtures/schema.js'

const { projects, users } = schema

interface Logged {
  query: string
  params: unknown[]
}

// Routed queries: tenantDrizzle in Citus mode adds tenant_id = <tenant> to the
// seed guide's query shapes, and EXPLAIN shows Citus sends each to one shard.
describe('tenantDrizzle(db, { citus: true }) routes to the tenant shard', () => {
  let db: CitusTestDatabase
  let admin: pg.Pool
  let rawPool: pg.Pool
  let explainer: TenantPool
  let orm: ReturnType<typeof drizzle<typeof schema>>
  const logged: Logged[] = []
  const A = randomUUID()
  const B = randomUUID()
  const aProject = randomUUID()
  const bProject = randomUUID()

  beforeAll(async () => {
    db = await createCitusTestDatabase()
    admin = new pg.Pool({ connectionString: db.adminUrl, max: 2 })
    await admin.query(`INSERT INTO tenants (id, name) VALUES ($1, 'a'), ($2, 'b')`, [A, B])
    rawPool = new pg.Pool({ connectionString: db.appUrl, max: 2 })
    const logger = { logQuery: (query: string, params: unknown[]) => void logged.push({ query, params }) }
    orm = tenantDrizzle(drizzle(rawPool, { schema, logger }), { citus: true })
    explainer = createTenantPool({ connectionString: db.appUrl, max: 1 }, { citus: true })
  })
  afterAll(async () => {
    await explainer?.end()
    await rawPool?.end()
    await admin?.end()
    await db?.drop()
  })
  beforeEach(async () => {
    logged.length = 0
    await admin.query('DELETE FROM projects')
    await admin.query(
      `INSERT INTO projects (tenant_id, id, name, created_at)
       SELECT $1::uuid, CASE WHEN i = 1 THEN $3::uuid ELSE gen_random_uuid() END, 'a' || i, now() - i * interval '1 minute'
         FROM generate_series(1, 12) AS i
       UNION ALL SELECT $2::uuid, $4::uuid, 'b1', now()`,
      [A, B, aProject, bProject],
    )
  })

  // Citus's task count for a statement, as the tenant's own connection plans it.
  async function tasks(statement: Logged): Promise<number> {
    const { rows } = await explainer.query(`EXPLAIN (FORMAT JSON) ${statement.query}`, statement.params)
    const counts = JSON.stringify(rows[0]['QUERY PLAN']).match(/"Task Count":(\d+)/g) ?? []
    expect(counts.length).toBeGreaterThan(0)
    return Math.max(...counts.map((count) => Number(count.split(':')[1])))
  }

  async function onlyStatement(): Promise<Logged> {
    const statements = logged.filter((entry) => !/^(begin|commit|rollback)/i.test(entry.query))
    expect(statements).toHaveLength(1)
    return statements[0]!
  }

  test('the EXPLAIN check sees a fan-out: RLS alone sends a row by id to every shard', async () => {
    const count = await withTenant(A, () => tasks({ query: 'SELECT * FROM projects WHERE id = $1', params: [aProject] }))
    expect(count).toBeGreaterThan(1)
  })

  test('a row by id (findFirst): one task, and only the tenant finds it', async () => {
    const found = await withTenant(A, () => orm.query.projects.findFirst({ where: eq(projects.id, aProject) }))
    expect(found).toMatchObject({ id: aProject, tenantId: A, name: 'a1' })
    expect(await withTenant(A, async () => tasks(await onlyStatement()))).toBe(1)
    expect(await withTenant(B, () => orm.query.projects.findFirst({ where: eq(projects.id, aProject) }))).toBeUndefined()
  })

  test('the ten most recent rows: one task', async () => {
    const recent = await withTenant(A, () => orm.select().from(projects).orderBy(desc(projects.createdAt)).limit(10))
    expect(recent.map((row) => row.name)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9', 'a10'])
    expect(await withTenant(A, async () => tasks(await onlyStatement()))).toBe(1)
  })

  test('a relational query with a relation, and an inner join: one task', async () => {
    await withTenant(A, () => orm.query.users.findMany({ with: { projects: true } }))
    expect(await withTenant(A, async () => tasks(await onlyStatement()))).toBe(1)
    logged.length = 0
    await withTenant(A, () => orm.select().from(projects).innerJoin(users, eq(users.id, projects.ownerId)))
    expect(await withTenant(A, async () => tasks(await onlyStatement()))).toBe(1)
  })

  test('insert, update and delete: one task each', async () => {
    for (const run of [
      () => orm.insert(projects).values({ name: 'new' }),
      () => orm.update(projects).set({ name: 'renamed' }).where(eq(projects.id, aProject)),
      () => orm.delete(projects).where(eq(projects.id, aProject)),
    ]) {
      logged.length = 0
      await withTenant(A, run)
      expect(await withTenant(A, async () => tasks(await onlyStatement()))).toBe(1)
    }
    const { rows } = await admin.query(`SELECT name FROM projects WHERE tenant_id = $1 AND name IN ('new', 'renamed', 'a1')`, [A])
    expect(rows).toEqual([{ name: 'new' }])
    // B's row was never touched by A's update and delete.
    const b = await admin.query(`SELECT name FROM projects WHERE id = $1`, [bProject])
    expect(b.rows).toEqual([{ name: 'b1' }])
  })

  test('a 3-statement transaction: each statement one task', async () => {
    await withTenant(A, () =>
      orm.transaction(async (tx) => {
        await tx.select().from(projects).where(eq(projects.id, aProject))
        await tx.insert(projects).values({ name: 'in tx' })
        await tx.update(projects).set({ name: 'a1 again' }).where(eq(projects.id, aProject))
      }),
    )
    const statements = logged.filter((entry) => !/^(begin|commit|rollback)/i.test(entry.query))
    expect(statements).toHaveLength(3)
    for (const statement of statements) expect(await withTenant(A, () => tasks(statement))).toBe(1)
  })

  test('createTenantDrizzle(config, { schema }, { citus: true }) routes too', async () => {
    const logger = { logQuery: (query: string, params: unknown[]) => void logged.push({ query, params }) }
    const created = createTenantDrizzle({ connectionString: db.appUrl, max: 1 }, { schema, logger }, { citus: true })
    try {
      const found = await withTenant(A, () => created.query.projects.findFirst({ where: eq(projects.id, aProject) }))
      expect(found).toMatchObject({ id: aProject })
      expect(await withTenant(A, async () => tasks(await onlyStatement()))).toBe(1)
    } finally {
      await created.$client.end()
    }
  })

  test('with citus.multi_task_query_log_level = error (for development), every query of the seed shapes runs: none fans out', async () => {
    const strict = new pg.Pool({ connectionString: db.appUrl, max: 1, options: '-c citus.multi_task_query_log_level=error' })
    const strictOrm = tenantDrizzle(drizzle(strict, { schema }), { citus: true })
    try {
      await withTenant(A, async () => {
        await strictOrm.query.projects.findFirst({ where: eq(projects.id, aProject) })
        await strictOrm.select().from(projects).orderBy(desc(projects.createdAt)).limit(10)
        await strictOrm.insert(projects).values({ name: 'strict' })
        await strictOrm.update(projects).set({ name: 'strict 2' }).where(eq(projects.name, 'strict'))
        await strictOrm.transaction(async (tx) => {
          await tx.select().from(projects).where(eq(projects.id, aProject))
          await tx.delete(projects).where(eq(projects.name, 'strict 2'))
        })
      })
      // The same setting refuses a query that RLS alone restricts.
      const unrouted = createTenantPool(strict, { citus: true })
      await expect(withTenant(A, () => unrouted.query('SELECT count(*) FROM projects'))).rejects.toMatchObject({
        message: expect.stringMatching(/multi-task query about to be executed/),
      })
    } finally {
      await strict.end()
    }
  })

  test('raw SQL routes with an explicit tenant_id = $1 from getTenantId()', async () => {
    const statement = { query: 'SELECT * FROM projects WHERE tenant_id = $1 AND id = $2', params: [] as unknown[] }
    const rows = await withTenant(A, async () => {
      statement.params = [getTenantId(), aProject]
      return (await explainer.query(statement.query, statement.params)).rows
    })
    expect(rows).toHaveLength(1)
    expect(await withTenant(A, () => tasks(statement))).toBe(1)
  })
})
