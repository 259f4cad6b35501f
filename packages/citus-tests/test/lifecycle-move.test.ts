import { randomUUID } from 'node:crypto'
import { createTenantPool, type TenantPool, TenantScopeError, withTenant } from '@tenantscope/core'
import { type LifecycleProgress, moveTenant, TenantLifecycleError } from '@tenantscope/lifecycle'
import { type CitusTestDatabase, createCitusTestDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { tenantscope } from './fixtures/run-cli.js'

// moveTenant({ to: { citusNode } }) of @tenantscope/lifecycle and `tenantscope tenant move --to-citus-node`:
// a pool tenant of a Citus cluster goes to another worker through isolate_tenant_to_new_shard and
// citus_move_shard_placement, while it and another tenant read and write through the Citus-mode pool.
describe('moving a pool tenant to another Citus node', () => {
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

  const nodeOf = async (tenant: string) => {
    const { rows } = await admin.query<{ nodeport: number; isolated: boolean }>(
      `SELECT p.nodeport, s.shardminvalue = s.shardmaxvalue AS isolated FROM pg_dist_shard s
         JOIN pg_dist_shard_placement p USING (shardid)
        WHERE s.shardid = get_shard_id_for_distribution_column('projects', $1::text)`,
      [tenant],
    )
    return { port: Number(rows[0]!.nodeport), isolated: rows[0]!.isolated }
  }
  const otherWorker = (port: number) => db.workerPorts.find((p) => p !== port)!

  function startLoad(tenant: string, writers: number, readers: number) {
    const load = { acknowledged: new Set<string>(), errors: [] as unknown[], reads: 0 }
    let stopped = false
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
    const done = Promise.all(loops)
    return {
      load,
      stop: async () => {
        stopped = true
        await done
      },
    }
  }
  const waitFor = (condition: () => boolean) => vi.waitUntil(condition, { timeout: 30_000, interval: 20 })

  test('under load: isolated, moved, no acknowledged write lost or duplicated, only retryable errors; a rerun changes nothing', async () => {
    const bigLoad = startLoad(big, 3, 2)
    const otherLoad = startLoad(other, 1, 1)
    const before = await nodeOf(big)
    const otherBefore = await nodeOf(other)
    const target = otherWorker(before.port)
    const progress: LifecycleProgress[] = []
    try {
      await waitFor(() => bigLoad.load.acknowledged.size >= 20 && otherLoad.load.acknowledged.size >= 5)
      expect(before.isolated).toBe(false)
      const receipt = await moveTenant({
        admin,
        tenantId: big,
        to: { citusNode: `127.0.0.1:${target}` },
        onProgress: (p) => void progress.push(p),
        progressIntervalMillis: 20,
      })
      expect(receipt.groups.length).toBeGreaterThan(0)
      for (const group of receipt.groups) expect(group).toMatchObject({ isolated: true, moved: true, from: `127.0.0.1:${before.port}` })
      expect(receipt.groups.flatMap((g) => g.tables)).toEqual(expect.arrayContaining(['projects', 'invoices']))
      expect(await nodeOf(big)).toEqual({ port: target, isolated: true })
      // The other tenant stayed where it was.
      expect((await nodeOf(other)).port).toBe(otherBefore.port)
      expect(progress.map((p) => p.phase)).toEqual(expect.arrayContaining(['isolate', 'move']))
      // Writes go on after the move, on the new node.
      const after = bigLoad.load.acknowledged.size
      await waitFor(() => bigLoad.load.acknowledged.size >= after + 20)
    } finally {
      await Promise.all([bigLoad.stop(), otherLoad.stop()])
    }
    for (const error of [...bigLoad.load.errors, ...otherLoad.load.errors]) {
      expect(TenantScopeError.is(error, 'CITUS_SHARD_MOVED'), String(error)).toBe(true)
    }
    for (const [tenant, load] of [
      [big, bigLoad.load],
      [other, otherLoad.load],
    ] as const) {
      const { rows } = await admin.query<{ name: string; n: number }>(
        `SELECT name, count(*)::int AS n FROM projects WHERE tenant_id = $1 GROUP BY name`,
        [tenant],
      )
      const found = new Map(rows.map((row) => [row.name, row.n]))
      for (const name of load.acknowledged) expect(found.get(name), `${name} lost`).toBe(1)
      expect(rows.filter((row) => row.n > 1)).toEqual([])
      expect(found.get('seed-200')).toBe(1)
      expect(load.reads).toBeGreaterThan(0)
    }

    // Rerun (e.g. after a lost answer): nothing left to do.
    const again = await moveTenant({ admin, tenantId: big, to: { citusNode: `127.0.0.1:${target}` } })
    for (const group of again.groups) expect(group).toMatchObject({ isolated: false, moved: false })
    expect(await nodeOf(big)).toEqual({ port: target, isolated: true })
  })

  test('bad input gets a typed error and changes nothing', async () => {
    const tenant = randomUUID()
    await admin.query(`INSERT INTO tenants (id, name) VALUES ($1, 't')`, [tenant])
    await admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'p')`, [tenant])
    const before = await nodeOf(tenant)
    const refused = async (to: { citusNode: string }, tenantId: string = tenant) =>
      moveTenant({ admin, tenantId, to }).then(
        () => undefined,
        (error: unknown) => (TenantLifecycleError.is(error) ? error.code : String(error)),
      )
    // No worker on that port (the coordinator's own port is not a worker either).
    expect(await refused({ citusNode: '127.0.0.1:1' })).toBe('NODE_NOT_FOUND')
    expect(await refused({ citusNode: `127.0.0.1:${db.coordinatorPort}` })).toBe('NODE_NOT_FOUND')
    expect(await refused({ citusNode: 'no-port' })).toBe('INVALID_CONFIG')
    expect(await refused({ citusNode: `127.0.0.1:${otherWorker(before.port)}` }, randomUUID())).toBe('TENANT_NOT_FOUND')
    expect(await refused({ citusNode: `127.0.0.1:${otherWorker(before.port)}` }, 'not-a-uuid')).toBe('INVALID_TENANT_ID')
    expect(await nodeOf(tenant)).toEqual(before)
  })

  test('tenantscope tenant move --to-citus-node: JSON receipt, then the same command again does nothing; an unknown node is a typed refusal', async () => {
    const tenant = randomUUID()
    await admin.query(`INSERT INTO tenants (id, name) VALUES ($1, 'cli')`, [tenant])
    await admin.query(`INSERT INTO projects (tenant_id, name) SELECT $1::uuid, 'p' || i FROM generate_series(1, 100) AS i`, [tenant])
    const before = await nodeOf(tenant)
    const target = otherWorker(before.port)
    const args = ['tenant', 'move', '--tenant', tenant, '--to-citus-node', `127.0.0.1:${target}`, '--database-url', db.adminUrl]

    const unknown = await tenantscope([
      'tenant',
      'move',
      '--tenant',
      tenant,
      '--to-citus-node',
      '127.0.0.1:1',
      '--database-url',
      db.adminUrl,
    ])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('NODE_NOT_FOUND')
    expect(await nodeOf(tenant)).toEqual(before)

    const first = await tenantscope([...args, '--json'])
    expect(first, first.stderr).toMatchObject({ code: 0 })
    const receipt = JSON.parse(first.stdout) as { to: string; groups: { isolated: boolean; moved: boolean }[] }
    expect(receipt.to).toBe(`127.0.0.1:${target}`)
    expect(receipt.groups.every((g) => g.isolated && g.moved)).toBe(true)
    expect(await nodeOf(tenant)).toEqual({ port: target, isolated: true })
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM projects WHERE tenant_id = $1`, [tenant])
    expect(rows[0].n).toBe(100)

    const second = await tenantscope(args)
    expect(second).toMatchObject({ code: 0 })
    expect(second.stdout).toContain('Already on')
  })
})
