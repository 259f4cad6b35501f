import { DEFAULT_ERASE_BATCH_SIZE, eraseTenant, finishMove, TenantLifecycleError } from '@tenantscope/lifecycle'
import { MAINTENANCE_ROLE } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type LifecycleDatabase, lifecycleDatabase, seedTenant, snapshot } from './_fixture.js'

const codeOf = (error: unknown) => (TenantLifecycleError.is(error) ? error.code : error)

// The erase's batches (picked by ctid) and its pace: after each batch it
// pauses pace × the batch's time, so that other tenants keep their latency
// (docs/benchmarks-lifecycle.md).
describe('erase batches and pacing', () => {
  let db: LifecycleDatabase
  let A: string
  let B: string

  beforeAll(async () => {
    db = await lifecycleDatabase()
    A = await seedTenant(db.admin, 'acme')
    B = await seedTenant(db.admin, 'globex', 2)
  })
  afterAll(async () => {
    await db?.end()
  })

  test('a pace that is not a number from 0 to 100 is a typed error, and nothing is erased', async () => {
    const before = await snapshot(db.admin, A)
    for (const pace of [-1, 101, Number.NaN, Number.POSITIVE_INFINITY, '1' as unknown as number]) {
      const error = await eraseTenant({ client: db.maintenance, tenantId: A, force: true, pace }).catch((e) => e)
      expect(codeOf(error)).toBe('INVALID_CONFIG')
      expect(error.message).toMatch(/^pace must be a number from 0 \(full speed\) to 100/)
    }
    // finishMove checks it before it looks for a move.
    const admin = new pg.Pool({ connectionString: db.db.adminUrl, max: 1 })
    try {
      const error = await finishMove({ admin, tenantId: A, connectionFor: () => db.db.maintenanceUrl, pace: -1 }).catch((e) => e)
      expect(codeOf(error)).toBe('INVALID_CONFIG')
    } finally {
      await admin.end()
    }
    expect(await snapshot(db.admin, A)).toEqual(before)
  })

  test('a paced erase pauses after every batch, and the receipt counts both; pace 0 never pauses', async () => {
    const other = await snapshot(db.admin, B)
    const batchesOf = async (tenantId: string) =>
      (await eraseTenant({ client: db.maintenance, tenantId, dryRun: true })).tables.reduce((n, t) => n + Math.ceil(t.rows / 2), 0)
    const expected = await batchesOf(A)
    const expectedOfB = await batchesOf(B)
    expect(expected).toBeGreaterThan(5)

    const paced = await eraseTenant({ client: db.maintenance, tenantId: A, force: true, batchSize: 2, pace: 0.5 })
    expect(paced).toMatchObject({ verified: true, batches: expected, pace: 0.5 })
    expect(paced.pausedMs).toBeGreaterThan(0)
    for (const rows of Object.values(await snapshot(db.admin, A))) expect(rows).toEqual([])
    expect(await snapshot(db.admin, B)).toEqual(other)

    const full = await eraseTenant({ client: db.maintenance, tenantId: B, force: true, batchSize: 2, pace: 0 })
    expect(full).toMatchObject({ verified: true, batches: expectedOfB, pace: 0, pausedMs: 0 })
    for (const rows of Object.values(await snapshot(db.admin, B))) expect(rows).toEqual([])
  })

  test('the default pace is 2, and a dry run neither deletes nor pauses', async () => {
    const C = await seedTenant(db.admin, 'initech')
    const dry = await eraseTenant({ client: db.maintenance, tenantId: C, dryRun: true })
    expect(dry).toMatchObject({ batches: 0, pausedMs: 0, pace: 2 })
    const erased = await eraseTenant({ client: db.maintenance, tenantId: C, force: true })
    expect(erased.pace).toBe(2)
    expect(erased.pausedMs).toBeGreaterThan(0)
  })

  test(`the default batch is ${DEFAULT_ERASE_BATCH_SIZE} rows: a table of one more row takes two batches`, async () => {
    const F = await seedTenant(db.admin, 'vandelay', 1)
    await db.admin.query(`INSERT INTO audit_log (tenant_id, message) SELECT $1, 'row ' || g FROM generate_series(1, $2) g`, [
      F,
      DEFAULT_ERASE_BATCH_SIZE - 1,
    ])
    const { tables } = await eraseTenant({ client: db.maintenance, tenantId: F, dryRun: true })
    expect(tables.find((t) => t.name === 'public.audit_log')).toMatchObject({ rows: DEFAULT_ERASE_BATCH_SIZE + 1 })
    const expected = tables.reduce((n, t) => n + Math.ceil(t.rows / DEFAULT_ERASE_BATCH_SIZE), 0)
    const receipt = await eraseTenant({ client: db.maintenance, tenantId: F, force: true, pace: 0 })
    expect(receipt).toMatchObject({ verified: true, batches: expected })
    expect(expected).toBe(tables.filter((t) => t.rows > 0).length + 1)
  })

  test("a partitioned table: a batch picks rows by ctid, which repeats across partitions, yet only the tenant's rows go", async () => {
    await db.admin.query(`CREATE TABLE events (tenant_id uuid NOT NULL REFERENCES tenants (id), n int NOT NULL, PRIMARY KEY (tenant_id, n)) PARTITION BY HASH (n);
      CREATE TABLE events_0 PARTITION OF events FOR VALUES WITH (MODULUS 2, REMAINDER 0);
      CREATE TABLE events_1 PARTITION OF events FOR VALUES WITH (MODULUS 2, REMAINDER 1);
      GRANT SELECT, DELETE ON events TO ${MAINTENANCE_ROLE.name}`)
    const D = await seedTenant(db.admin, 'umbrella', 1)
    const E = await seedTenant(db.admin, 'hooli', 1)
    // The two tenants' rows alternate, so each partition's ctids hold both,
    // and a ctid of D in one partition is one of E's in the other.
    await db.admin.query(`INSERT INTO events SELECT CASE WHEN g % 2 = 0 THEN $1::uuid ELSE $2::uuid END, g FROM generate_series(1, 80) g`, [
      D,
      E,
    ])
    const collisions = await db.admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM events_0 a JOIN events_1 b ON a.ctid = b.ctid WHERE a.tenant_id <> b.tenant_id`,
    )
    expect(collisions.rows[0]!.n).toBeGreaterThan(0)
    const receipt = await eraseTenant({ client: db.maintenance, tenantId: D, force: true, batchSize: 3, pace: 0 })
    expect(receipt.tables.find((t) => t.name === 'public.events')).toMatchObject({ rows: 40 })
    expect(receipt.verified).toBe(true)
    const left = await db.admin.query<{ tenant_id: string; n: number }>(`SELECT tenant_id, count(*)::int AS n FROM events GROUP BY 1`)
    expect(left.rows).toEqual([{ tenant_id: E, n: 40 }])
  })
})
