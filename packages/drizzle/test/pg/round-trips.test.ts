import { withTenant } from '@tenantscope/core'
import { tenantDrizzle } from '@tenantscope/drizzle'
import { startWireCounter, type WireCounter } from '@tenantscope/test-harness'
import { eq, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { createFixture, type Fixture } from '../fixtures/database.js'
import * as schema from '../fixtures/schema.js'

const { projects } = schema

// Counted on the wire, not timed: a proxy between the pool and PostgreSQL
// counts the client's turns to speak (network round trips) and its messages.
let f: Fixture
let counter: WireCounter
let pool: pg.Pool
let raw: ReturnType<typeof makeDb>
let db: ReturnType<typeof makeDb>

function makeDb(client: pg.Pool) {
  return drizzle(client, { schema })
}

beforeAll(async () => {
  f = await createFixture()
  const target = new URL(f.db.appUrl)
  counter = await startWireCounter({ host: target.hostname, port: Number(target.port || 5432) })
  // One connection, opened before counting starts: only queries are counted.
  pool = new pg.Pool({ connectionString: counter.url(f.db.appUrl), max: 1 })
  await pool.query('SELECT 1')
  raw = makeDb(pool)
  db = tenantDrizzle(raw)
})
afterAll(async () => {
  await pool?.end()
  await counter?.close()
  await f?.end()
})
beforeEach(() => counter.reset())

async function measure(run: () => Promise<unknown>) {
  counter.reset()
  await run()
  return { roundTrips: counter.roundTrips(), messages: counter.messages() }
}

describe('round trips of the wrapped Drizzle instance', () => {
  const statements: Array<[string, (d: typeof db) => Promise<unknown>]> = [
    ['select builder', (d) => d.select().from(projects).where(eq(projects.name, 'a-project'))],
    ['insert builder', (d) => d.insert(projects).values({ name: 'counted' })],
    ['relational query', (d) => d.query.projects.findMany({ with: { owner: true } })],
    ['db.execute', (d) => d.execute(sql`SELECT count(*) FROM projects`)],
    ['db.$count', (d) => d.$count(projects)],
  ]

  for (const [name, run] of statements) {
    test(`${name}: one round trip, the setter and the statement closed by one Sync`, async () => {
      // Warm: the first use of a connection may parse a named setter once.
      await withTenant(f.A, () => run(db))
      const scoped = await measure(() => withTenant(f.A, () => run(db)))
      expect(scoped.roundTrips).toBe(1)
      expect(scoped.messages).toMatchObject({ E: 2, S: 1 })
      expect(scoped.messages.Q).toBeUndefined()
    })
  }

  test('the same as raw Drizzle: one round trip per statement', async () => {
    const query = (d: typeof db) => d.select().from(projects)
    const plain = await measure(() => query(raw))
    const scoped = await measure(() => withTenant(f.A, () => query(db)))
    expect(plain.roundTrips).toBe(1)
    expect(scoped.roundTrips).toBe(plain.roundTrips)
  })

  test('a transaction: the setting rides with BEGIN, so it costs what raw Drizzle costs', async () => {
    const work = (d: typeof db) =>
      d.transaction(async (tx) => {
        await tx.insert(projects).values({ name: 'in tx' })
        await tx.select().from(projects)
      })
    await f.admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'raw side')`, [f.A])
    // The raw instance runs as the app role with no tenant: RLS refuses its
    // insert, so compare a read-only transaction for the raw count.
    const readOnly = (d: typeof db) => d.transaction(async (tx) => void (await tx.select().from(projects)))
    const plain = await measure(() => readOnly(raw))
    const scopedReadOnly = await measure(() => withTenant(f.A, () => readOnly(db)))
    expect(scopedReadOnly.roundTrips).toBe(plain.roundTrips)
    expect(plain.roundTrips).toBe(3) // begin, select, commit
    const scoped = await measure(() => withTenant(f.A, () => work(db)))
    expect(scoped.roundTrips).toBe(4) // begin (+ setter), insert, select, commit
  })

  test('a transaction with modes (BEGIN ISOLATION LEVEL ...): the setter follows the BEGIN in the same round trip', async () => {
    const serializable = (d: typeof db) =>
      d.transaction(async (tx) => void (await tx.select().from(projects)), { isolationLevel: 'serializable', accessMode: 'read only' })
    const plain = await measure(() => serializable(raw))
    const scoped = await measure(() => withTenant(f.A, () => serializable(db)))
    expect(plain.roundTrips).toBe(3)
    expect(scoped.roundTrips).toBe(plain.roundTrips)
  })
})
