import { TenantPool, TenantScopeError, withTenant } from '@tenantscope/core'
import { tenantDrizzle } from '@tenantscope/drizzle'
import { and, asc, count, eq, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import { pgTable, text, uuid, withReplicas } from 'drizzle-orm/pg-core'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { appPool, createFixture, type Fixture } from '../fixtures/database.js'
import * as schema from '../fixtures/schema.js'

const { projects, users, invoices } = schema

let f: Fixture
let pool: pg.Pool
const queries: string[] = []
const logger = { logQuery: (query: string) => void queries.push(query) }
let original: ReturnType<typeof makeOriginal>
let db: ReturnType<typeof makeOriginal>

function makeOriginal(client: pg.Pool) {
  return drizzle(client, { schema, logger })
}

beforeAll(async () => {
  f = await createFixture()
  pool = appPool(f)
  original = makeOriginal(pool)
  db = tenantDrizzle(original)
})
afterAll(async () => {
  await pool?.end()
  await f?.end()
})
beforeEach(async () => {
  await f.admin.query(`DELETE FROM invoices; DELETE FROM projects WHERE name NOT IN ('a-project', 'b-project')`)
  queries.length = 0
})

const missing = { name: 'TenantScopeError', code: 'TENANT_CONTEXT_MISSING' }

describe('tenantDrizzle over drizzle-orm 0.x', () => {
  test('select, insert, update and delete builders run for the current tenant', async () => {
    await withTenant(f.A, async () => {
      const inserted = await db.insert(projects).values({ name: 'a-2' }).returning()
      expect(inserted).toEqual([expect.objectContaining({ tenantId: f.A, name: 'a-2' })])
      const rows = await db.select({ tenantId: projects.tenantId, name: projects.name }).from(projects).orderBy(asc(projects.name))
      expect(rows).toEqual([
        { tenantId: f.A, name: 'a-2' },
        { tenantId: f.A, name: 'a-project' },
      ])
      // No WHERE: RLS alone limits the update and the delete to A's rows.
      const renamed = await db
        .update(projects)
        .set({ name: sql`${projects.name} || '!'` })
        .returning({ name: projects.name })
      expect(renamed.map((row) => row.name).sort()).toEqual(['a-2!', 'a-project!'])
      const deleted = await db.delete(projects).where(eq(projects.name, 'a-2!')).returning({ tenantId: projects.tenantId })
      expect(deleted).toEqual([{ tenantId: f.A }])
      await db.update(projects).set({ name: 'a-project' })
    })
    const { rows } = await f.admin.query('SELECT tenant_id, name FROM projects ORDER BY name')
    expect(rows).toEqual([
      { tenant_id: f.A, name: 'a-project' },
      { tenant_id: f.B, name: 'b-project' },
    ])
  })

  test('relational queries (db.query) see only the tenant, relations included', async () => {
    const found = await withTenant(f.B, () => db.query.projects.findMany({ with: { owner: true, invoices: true } }))
    expect(found).toEqual([
      expect.objectContaining({
        tenantId: f.B,
        name: 'b-project',
        owner: expect.objectContaining({ id: f.userB, name: 'Bob' }),
        invoices: [],
      }),
    ])
    const first = await withTenant(f.A, () => db.query.users.findFirst({ where: eq(users.id, f.userB) }))
    expect(first).toBeUndefined()
  })

  test('db.execute runs raw SQL for the tenant, with the setting visible to it', async () => {
    const result = await withTenant(f.A, () =>
      db.execute<{ tenant: string; n: number }>(
        sql`SELECT current_setting('app.current_tenant') AS tenant, (SELECT count(*)::int FROM projects) AS n`,
      ),
    )
    expect(result.rows).toEqual([{ tenant: f.A, n: 1 }])
  })

  test('db.$count and aggregate selects count only the tenant rows', async () => {
    await withTenant(f.A, () => db.insert(projects).values([{ name: 'a-2' }, { name: 'a-3' }]))
    expect(await withTenant(f.A, () => db.$count(projects))).toBe(3)
    expect(await withTenant(f.B, () => db.$count(projects))).toBe(1)
    expect(await withTenant(f.B, () => db.$count(projects, eq(projects.name, 'a-2')))).toBe(0)
    const [total] = await withTenant(f.A, () => db.select({ n: count() }).from(projects))
    expect(total).toEqual({ n: 3 })
  })

  test('a batch-like burst of statements from two tenants on a pool of two stays isolated', async () => {
    const burst = (tenant: string, label: string) =>
      withTenant(tenant, () =>
        Promise.all(
          Array.from({ length: 20 }, async (_, i) => {
            await db.insert(projects).values({ name: `${label}-${i}` })
            const rows = await db.select({ tenantId: projects.tenantId }).from(projects)
            return rows.every((row) => row.tenantId === tenant)
          }),
        ),
      )
    const results = await Promise.all([burst(f.A, 'a'), burst(f.B, 'b')])
    expect(results.flat().every(Boolean)).toBe(true)
    const { rows } = await f.admin.query(`SELECT count(*)::int AS n FROM projects WHERE (tenant_id = $1) <> (name LIKE 'a%')`, [f.A])
    expect(rows[0].n).toBe(0)
  })

  test('transactions run every statement for the tenant; nested ones are savepoints', async () => {
    const names = await withTenant(f.A, () =>
      db.transaction(async (tx) => {
        await tx.insert(projects).values({ name: 'outer' })
        await expect(
          tx.transaction(async (inner) => {
            await inner.insert(projects).values({ name: 'inner, rolled back' })
            throw new Error('undo the savepoint')
          }),
        ).rejects.toThrow('undo the savepoint')
        await tx.transaction(async (inner) => {
          await inner.insert(projects).values({ name: 'inner, kept' })
        })
        const rows = await tx.select({ name: projects.name, tenantId: projects.tenantId }).from(projects).orderBy(asc(projects.name))
        expect(rows.every((row) => row.tenantId === f.A)).toBe(true)
        return rows.map((row) => row.name)
      }),
    )
    expect(names).toEqual(['a-project', 'inner, kept', 'outer'])
    expect(queries.filter((q) => /^(begin|commit|rollback|savepoint|release savepoint|rollback to savepoint)/i.test(q))).toEqual([
      'begin',
      'savepoint sp1',
      'rollback to savepoint sp1',
      'savepoint sp1',
      'release savepoint sp1',
      'commit',
    ])
  })

  test('a transaction that throws is rolled back and its connection goes back clean', async () => {
    const boom = new Error('boom')
    await expect(
      withTenant(f.B, () =>
        db.transaction(async (tx) => {
          await tx.insert(projects).values({ name: 'never' })
          throw boom
        }),
      ),
    ).rejects.toBe(boom)
    expect(await withTenant(f.B, () => db.$count(projects))).toBe(1)
    const probes = await Promise.all(
      [1, 2].map(() => pool.query(`SELECT current_setting('app.current_tenant', true) AS t, pg_sleep(0.05)`)),
    )
    expect(probes.map((probe) => probe.rows[0].t ?? '')).toEqual(['', ''])
  })

  test('transaction config (isolation level, access mode) is kept and the BEGIN still carries the tenant', async () => {
    const seen = await withTenant(f.A, () =>
      db.transaction(
        async (tx) => {
          const result = await tx.execute<{ iso: string; ro: string; tenant: string }>(
            sql`SELECT current_setting('transaction_isolation') AS iso, current_setting('transaction_read_only') AS ro, current_setting('app.current_tenant') AS tenant`,
          )
          return result.rows[0]
        },
        { isolationLevel: 'serializable', accessMode: 'read only' },
      ),
    )
    expect(seen).toEqual({ iso: 'serializable', ro: 'on', tenant: f.A })
  })

  test("inside a transaction, another tenant's context is refused with TENANT_MISMATCH", async () => {
    const attempt = withTenant(f.A, () =>
      db.transaction(async (tx) => {
        await tx.select().from(projects)
        await withTenant(f.B, () => tx.select().from(projects))
      }),
    )
    await expect(attempt).rejects.toMatchObject({ name: 'TenantScopeError', code: 'TENANT_MISMATCH' })
    await attempt.catch((error: Error) => {
      expect(error.message).not.toContain(f.A)
      expect(error.message).not.toContain(f.B)
    })
  })

  test('outside withTenant every entry point throws TENANT_CONTEXT_MISSING before a connection is taken', async () => {
    const fresh = appPool(f)
    try {
      const scoped = tenantDrizzle(makeOriginal(fresh))
      const attempts: Array<() => PromiseLike<unknown>> = [
        () => scoped.select().from(projects),
        () => scoped.insert(projects).values({ name: 'x' }),
        () => scoped.update(projects).set({ name: 'x' }),
        () => scoped.delete(projects),
        () => scoped.query.projects.findMany(),
        () => scoped.execute(sql`SELECT 1`),
        () => scoped.$count(projects),
        () => scoped.transaction(async (tx) => tx.select().from(projects)),
        () => scoped.select().from(projects).prepare('named_outside').execute(),
        () => scoped.$client.query('SELECT 1'),
      ]
      for (const attempt of attempts) await expect(Promise.resolve().then(attempt)).rejects.toMatchObject(missing)
      expect(fresh.totalCount).toBe(0)
    } finally {
      await fresh.end()
    }
  })

  test('bad tenant ids are refused with INVALID_TENANT_ID before a connection is taken', async () => {
    const fresh = appPool(f)
    try {
      const scoped = tenantDrizzle(makeOriginal(fresh))
      for (const bad of ["' OR true --", 'not-a-uuid', `${f.A}'`]) {
        const attempt = withTenant(bad, () => scoped.select().from(projects))
        await expect(attempt).rejects.toSatisfy((error) => TenantScopeError.is(error, 'INVALID_TENANT_ID'))
      }
      expect(fresh.totalCount).toBe(0)
    } finally {
      await fresh.end()
    }
  })

  test('a named prepared statement runs for the tenant of each execution', async () => {
    const prepared = db.select({ name: projects.name }).from(projects).prepare('tenant_projects')
    const runs = []
    for (let i = 0; i < 3; i++) {
      runs.push(await withTenant(f.A, () => prepared.execute()), await withTenant(f.B, () => prepared.execute()))
    }
    expect(runs).toEqual(Array.from({ length: 3 }, () => [[{ name: 'a-project' }], [{ name: 'b-project' }]]).flat())
  })

  test("keeps the original's schema, logger and dialect", async () => {
    expect(Object.keys(db.query).sort()).toEqual(Object.keys(original.query).sort())
    const dialectOf = (instance: object) => (instance as { dialect: unknown }).dialect
    expect(dialectOf(db)).toBe(dialectOf(original))
    await withTenant(f.A, () => db.select().from(invoices))
    expect(queries).toEqual([expect.stringMatching(/^select .* from "invoices"$/)])
  })

  test('keeps casing: snake_case column names from camelCase keys', async () => {
    const bare = pgTable('projects', { tenantId: uuid(), ownerId: uuid(), name: text() })
    const scoped = tenantDrizzle(drizzle(pool, { casing: 'snake_case' }))
    const rows = await withTenant(f.A, () =>
      scoped
        .select()
        .from(bare)
        .where(and(eq(bare.ownerId, f.userA))),
    )
    expect(rows).toEqual([{ tenantId: f.A, ownerId: f.userA, name: 'a-project' }])
  })

  test('$client is a TenantPool over the same pg.Pool: raw $client.query is tenant-scoped too', async () => {
    expect(db.$client).toBeInstanceOf(TenantPool)
    expect(db.$client).toBeInstanceOf(pg.Pool)
    expect((db.$client as unknown as TenantPool).unscopedPool).toBe(pool)
    const { rows } = await withTenant(f.A, () => db.$client.query('SELECT tenant_id FROM projects'))
    expect(rows).toEqual([{ tenant_id: f.A }])
    await expect(db.$client.query('SELECT 1')).rejects.toMatchObject(missing)
  })

  test('the original instance is left unscoped: as the app role it sees no rows and cannot write (fail closed)', async () => {
    expect(original.$client).toBe(pool)
    expect(await original.select().from(projects)).toEqual([])
    // Drizzle wraps database errors in DrizzleQueryError; the SQLSTATE is on `cause`.
    await expect(original.insert(projects).values({ name: 'orphan' })).rejects.toMatchObject({ cause: { code: '42501' } })
    await expect(original.insert(projects).values({ tenantId: f.A, name: 'forged' })).rejects.toMatchObject({ cause: { code: '42501' } })
  })

  test('CTEs ($with / with) and selectDistinct run for the tenant', async () => {
    const mine = db.$with('mine').as(db.select({ name: projects.name, tenantId: projects.tenantId }).from(projects))
    const rows = await withTenant(f.B, () => db.with(mine).selectDistinct().from(mine))
    expect(rows).toEqual([{ name: 'b-project', tenantId: f.B }])
  })

  test('db.execute of a multi-statement script: refused outside a transaction, run as is inside one after its first statement', async () => {
    const script = sql`UPDATE projects SET name = name; SELECT 1`
    await expect(withTenant(f.A, () => db.execute(script))).rejects.toMatchObject({
      name: 'TenantScopeError',
      code: 'MULTI_STATEMENT_QUERY',
    })
    // The transaction's first statement carries the setter, so it must be a single one.
    await expect(withTenant(f.A, () => db.transaction((tx) => tx.execute(script)))).rejects.toMatchObject({ code: 'MULTI_STATEMENT_QUERY' })
    await withTenant(f.A, () =>
      db.transaction(async (tx) => {
        await tx.execute(sql`SELECT 1`)
        await tx.execute(script)
      }),
    )
  })

  test('tx.setTransaction (SET TRANSACTION after BEGIN) works, and the transaction still runs for the tenant', async () => {
    const seen = await withTenant(f.A, () =>
      db.transaction(async (tx) => {
        await tx.setTransaction({ isolationLevel: 'serializable', accessMode: 'read only' })
        const [level] = (await tx.execute(sql`SELECT current_setting('transaction_isolation') AS level`)).rows
        const rows = await tx.select({ tenantId: projects.tenantId }).from(projects)
        return { level, tenants: [...new Set(rows.map((row) => row.tenantId))] }
      }),
    )
    expect(seen).toEqual({ level: { level: 'serializable' }, tenants: [f.A] })
  })

  test('withReplicas over wrapped instances: reads and writes both run for the tenant', async () => {
    const replicaPool = appPool(f, 1)
    try {
      const replicated = withReplicas(db, [tenantDrizzle(makeOriginal(replicaPool))])
      const rows = await withTenant(f.A, () => replicated.select({ tenantId: projects.tenantId }).from(projects))
      expect(rows).toEqual([{ tenantId: f.A }])
      expect(replicaPool.totalCount).toBe(1) // the read went to the replica
      await expect(replicated.select().from(projects)).rejects.toMatchObject(missing)
      await withTenant(f.A, () => replicated.insert(projects).values({ name: 'via primary' }))
      expect(await withTenant(f.A, () => db.$count(projects))).toBe(2)
    } finally {
      await replicaPool.end()
    }
  })

  test('an instance already over a TenantPool is copied over the same pool, and its refusals come out unwrapped', async () => {
    const direct = drizzle({ client: db.$client, schema })
    // Drizzle alone wraps the refusal in its DrizzleQueryError.
    await expect(direct.select().from(projects)).rejects.toMatchObject({ cause: missing })
    const rewrapped = tenantDrizzle(direct)
    expect(rewrapped.$client).toBe(db.$client)
    await expect(rewrapped.select().from(projects)).rejects.toMatchObject(missing)
    expect(await withTenant(f.A, () => rewrapped.$count(projects))).toBe(1)
    expect(() => tenantDrizzle(db, { setting: 'app.other' })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
  })

  test('a BEGIN that fails (here: its setter) does not leak the connection', async () => {
    const small = appPool(f, 2)
    const failingSetter = (settings: readonly (readonly [string, string])[]) => ({
      text: 'SELECT set_config($1, $2, true), no_such_function()',
      values: settings.flat(),
    })
    const broken = tenantDrizzle(makeOriginal(small), { setter: failingSetter })
    try {
      // More transactions than connections: a leaked connection would make the third wait forever.
      for (let i = 0; i < 3; i++) {
        await expect(withTenant(f.A, () => broken.transaction(async () => 1))).rejects.toMatchObject({ cause: { code: '42883' } })
      }
      expect(small.waitingCount).toBe(0)
      expect(small.totalCount).toBe(small.idleCount)
    } finally {
      await small.end()
    }
  })

  test("withReplicas' result is refused: wrap each instance before withReplicas", () => {
    const replicated = withReplicas(original, [makeOriginal(pool)])
    expect(() => tenantDrizzle(replicated)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
  })
})
