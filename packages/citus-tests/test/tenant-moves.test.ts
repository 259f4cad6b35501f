import { randomUUID } from 'node:crypto'
import { createTenantPool, type TenantPool, TenantScopeError, withTenant } from '@tenantscope/core'
import { type CitusTestDatabase, createCitusTestDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { findTenantShard, isolateTenant, type MoveProgress, moveTenant } from 'tenantscope'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'

interface Load {
  acknowledged: Set<string>
  errors: unknown[]
  reads: number
}

// isolate_tenant_to_new_shard and citus_move_shard_placement (block_writes)
// while the tenant, and another one, read and write through the Citus-mode pool.
describe('isolating and moving a tenant under load', () => {
  let db: CitusTestDatabase
  let admin: pg.Pool
  let pool: TenantPool
  const big = randomUUID()
  const other = randomUUID()

  beforeAll(async () => {
    db = await createCitusTestDatabase()
    admin = new pg.Pool({ connectionString: db.adminUrl, max: 3 })
    await admin.query(`INSERT INTO tenants (id, name) VALUES ($1, 'big'), ($2, 'other')`, [big, other])
    await admin.query(
      `INSERT INTO projects (tenant_id, name) SELECT $1::uuid, 'seed-' || i FROM generate_series(1, 2000) AS i
       UNION ALL SELECT $2::uuid, 'seed-' || i FROM generate_series(1, 200) AS i`,
      [big, other],
    )
    pool = createTenantPool({ connectionString: db.appUrl, max: 8 }, { citus: true })
  })
  afterAll(async () => {
    await pool?.end()
    await admin?.end()
    await db?.drop()
  })

  const waitFor = (condition: () => boolean) => vi.waitUntil(condition, { timeout: 30_000, interval: 20 })

  // Writers insert uniquely named rows (routed: tenant_id = $1) and remember
  // what was acknowledged; readers count. Runs until stop() resolves.
  function startLoad(tenant: string, writers: number, readers: number, stop: Promise<void>): { load: Load; done: Promise<void> } {
    const load: Load = { acknowledged: new Set(), errors: [], reads: 0 }
    let stopped = false
    void stop.then(() => (stopped = true))
    const writer = async (w: number) => {
      for (let i = 0; !stopped; i++) {
        const name = `w${w}-${i}`
        try {
          await withTenant(tenant, () => pool.query('INSERT INTO projects (tenant_id, name) VALUES ($1, $2)', [tenant, name]))
          load.acknowledged.add(name)
        } catch (error) {
          load.errors.push(error)
        }
      }
    }
    const reader = async () => {
      while (!stopped) {
        try {
          await withTenant(tenant, () => pool.query('SELECT count(*) FROM projects WHERE tenant_id = $1', [tenant]))
          load.reads++
        } catch (error) {
          load.errors.push(error)
        }
      }
    }
    const loops = [...Array.from({ length: writers }, (_, w) => writer(w)), ...Array.from({ length: readers }, () => reader())]
    return { load, done: Promise.all(loops).then(() => undefined) }
  }

  const title =
    'no acknowledged write is lost, none is duplicated, the only errors are typed and retryable, and the tenant ends on the other worker'
  test(title, async () => {
    let stop!: () => void
    const stopped = new Promise<void>((resolve) => (stop = resolve))
    const bigLoad = startLoad(big, 3, 2, stopped)
    const otherLoad = startLoad(other, 1, 1, stopped)
    try {
      await waitFor(() => bigLoad.load.acknowledged.size >= 20 && otherLoad.load.acknowledged.size >= 5)
      const before = await findTenantShard(admin, 'projects', big)
      expect(before.isolated).toBe(false)

      const isolated = await isolateTenant(admin, 'projects', big)
      expect(isolated).toMatchObject({ changed: true, shard: { isolated: true, nodePort: before.nodePort } })
      expect(isolated.shard.colocatedTables).toEqual(expect.arrayContaining(['projects', 'tenants', 'users', 'invoices']))
      const progress: MoveProgress[] = []
      const progressDb = new pg.Client({ connectionString: db.adminUrl })
      await progressDb.connect()
      let moved
      try {
        moved = await moveTenant(admin, 'projects', big, { progressDb, onProgress: (p) => progress.push(p), progressIntervalMs: 50 })
      } finally {
        await progressDb.end()
      }
      expect(moved.changed).toBe(true)
      expect(moved.to).toMatchObject({ shardId: isolated.shard.shardId, isolated: true })
      expect(moved.to.nodePort).not.toBe(before.nodePort)
      expect(db.workerPorts).toContain(moved.to.nodePort)
      // Writes go on after the move, on the new node.
      const after = bigLoad.load.acknowledged.size
      await waitFor(() => bigLoad.load.acknowledged.size >= after + 20)
    } finally {
      stop()
      await Promise.all([bigLoad.done, otherLoad.done])
    }

    // The only errors allowed: the typed, retryable one of a statement that
    // met the old shard while Citus split it (rolled back; nothing committed).
    // The other tenant shared that shard before the split, so it may see it too.
    for (const error of [...bigLoad.load.errors, ...otherLoad.load.errors]) {
      expect(TenantScopeError.is(error, 'CITUS_SHARD_MOVED'), String(error)).toBe(true)
    }
    for (const [tenant, load] of [
      [big, bigLoad.load],
      [other, otherLoad.load],
    ] as const) {
      const { rows } = await admin.query<{ name: string; n: number }>(
        `SELECT name, count(*)::int AS n FROM projects WHERE tenant_id = $1 AND name LIKE 'w%' GROUP BY name`,
        [tenant],
      )
      const found = new Map(rows.map((row) => [row.name, row.n]))
      for (const name of load.acknowledged) expect(found.get(name), `${name} lost`).toBe(1)
      expect(rows.filter((row) => row.n > 1)).toEqual([])
      expect(load.reads).toBeGreaterThan(0)
    }
    // RLS survived: the tenant still sees only its own rows on its new node.
    const seen = await withTenant(big, () => pool.query('SELECT DISTINCT tenant_id FROM projects WHERE tenant_id = $1', [big]))
    expect(seen.rows).toEqual([{ tenant_id: big }])
    const leak = await withTenant(big, () => pool.query('SELECT count(*)::int AS n FROM projects WHERE tenant_id = $1', [other]))
    expect(leak.rows[0].n).toBe(0)
  })

  test('a long move reports its progress: the size of the shard and the bytes copied so far', async () => {
    const tenant = randomUUID()
    await admin.query(`INSERT INTO tenants (id, name) VALUES ($1, 'long')`, [tenant])
    const rows = `SELECT $1::uuid, repeat('x', 200) || i FROM generate_series(1, 100000) AS i`
    await admin.query(`INSERT INTO projects (tenant_id, name) ${rows}`, [tenant])
    const { shard } = await isolateTenant(admin, 'projects', tenant)
    const progress: MoveProgress[] = []
    const progressDb = new pg.Client({ connectionString: db.adminUrl })
    await progressDb.connect()
    try {
      await moveTenant(admin, 'projects', tenant, { progressDb, onProgress: (p) => progress.push(p), progressIntervalMs: 10 })
    } finally {
      await progressDb.end()
    }
    const seen = progress.filter((p) => p.sourceBytes > 0)
    expect(seen.length).toBeGreaterThan(0)
    for (const p of seen) {
      expect(p.shardId).toBe(shard.shardId)
      expect(p.targetBytes).toBeLessThanOrEqual(p.sourceBytes)
    }
    expect(seen[0]!.sourceBytes).toBeGreaterThan(10_000_000)
  })
})
