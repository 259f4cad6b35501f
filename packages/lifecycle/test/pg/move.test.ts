import { randomUUID } from 'node:crypto'
import { withTenant } from '@tenantscope/core'
import type { TenantRouter } from '@tenantscope/router'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { finishMove, type MoveTenantOptions, moveTenant } from '../../src/index.js'
import { bodiesAt, MIGRATIONS, type MoveWorld, moveWorld, seedPoolTenant, startLoad } from './_move-fixture.js'

// A tenant moves pool → schema → database → pool in region eu, each time
// under a load of its own reads and writes and another tenant's, through
// two app instances (routers whose directories listen).
describe('moveTenant', () => {
  const T = randomUUID()
  const OTHER = randomUUID()
  let world: MoveWorld
  let routers: TenantRouter[]
  let options: (to: MoveTenantOptions['to']) => MoveTenantOptions

  beforeAll(async () => {
    world = await moveWorld()
    await seedPoolTenant(world, T, 3000)
    await seedPoolTenant(world, OTHER, 100)
    routers = [await world.instance(), await world.instance()]
    options = (to) => ({
      admin: world.admin,
      tenantId: T,
      to,
      connectionFor: (entry) => world.connectionFor(entry),
      provision: { migrations: MIGRATIONS, appRole: 'tenantscope_test_app', gateRole: `${world.prefix}gate` },
      graceMillis: 3_600_000,
    })
  })
  afterAll(async () => {
    await world?.end()
  })

  const entryOf = async (id: string) =>
    (
      await world.admin.query(
        `SELECT strategy, schema_name, database_key, region, state FROM tenantscope.tenant_directory WHERE tenant_id = $1`,
        [id],
      )
    ).rows[0]

  // Every acknowledged write is at the destination, once; the load saw only retryable refusals; the other tenant saw nothing.
  async function moveUnderLoad(to: MoveTenantOptions['to'], destination: { url: string; schema: string }, label: string) {
    const before = await withTenant(T, () => routers[0]!.query(`SELECT body FROM items WHERE tenant_id = $1`, [T]))
    const load = startLoad(routers, T, `${label}-t`)
    const other = startLoad(routers, OTHER, `${label}-o`, 2)
    await new Promise((resolve) => setTimeout(resolve, 100))
    const receipt = await moveTenant(options(to))
    // Writes go on at the destination after the switch.
    const acknowledgedAtSwitch = load.result.acknowledged.length
    while (load.result.acknowledged.length < acknowledgedAtSwitch + 20) await new Promise((resolve) => setTimeout(resolve, 10))
    const [mine, others] = await Promise.all([load.stop(), other.stop()])
    expect(new Set(mine.errors)).toEqual(new Set(mine.errors.length ? ['TENANT_UNAVAILABLE'] : []))
    expect(others.errors).toEqual([])
    expect(mine.reads).toBeGreaterThan(0)
    const at = await bodiesAt(destination.url, destination.schema, T)
    expect(at.length).toBe(new Set(at).size)
    expect(new Set(at)).toEqual(new Set([...before.rows.map((r) => r.body as string), ...mine.acknowledged]))
    expect(receipt.instances).toBe(2)
    expect(receipt.frozenMillis).toBeGreaterThanOrEqual(0)
    return receipt
  }

  test('pool → schema under load: every acknowledged write arrives once; writes were refused only with TENANT_UNAVAILABLE', async () => {
    const receipt = await moveUnderLoad(
      { strategy: 'schema', schema: `${world.prefix}t`, role: `${world.prefix}t` },
      { url: world.primary.adminUrl, schema: `${world.prefix}t` },
      'a',
    )
    expect(await entryOf(T)).toMatchObject({ strategy: 'schema', schema_name: `${world.prefix}t`, state: 'active' })
    // item_tags came along (reached through its foreign key only).
    expect(receipt.tables.map((t) => t.name)).toEqual([`${world.prefix}t.items`, `${world.prefix}t.item_tags`])
    expect(receipt.tables[1]!.rows).toBe(300)
    // The source keeps its copy for the grace period, then finishMove erases it.
    expect((await bodiesAt(world.primary.adminUrl, 'public', T)).length).toBeGreaterThan(0)
    await expect(finishMove({ admin: world.admin, tenantId: T, connectionFor: (e) => world.connectionFor(e) })).rejects.toMatchObject({
      code: 'GRACE_PERIOD',
    })
    const finished = await finishMove({ admin: world.admin, tenantId: T, connectionFor: (e) => world.connectionFor(e), force: true })
    expect(finished.erased.verified).toBe(true)
    expect(await bodiesAt(world.primary.adminUrl, 'public', T)).toEqual([])
    expect((await bodiesAt(world.primary.adminUrl, 'public', OTHER)).length).toBeGreaterThan(100)
  })

  test('schema → database under load', async () => {
    const database = `${world.prefix}db`
    world.made.push(database)
    await moveUnderLoad(
      { strategy: 'database', database },
      { url: world.connectionFor({ strategy: 'database', database }), schema: 'public' },
      'b',
    )
    expect(await entryOf(T)).toMatchObject({ strategy: 'database', database_key: database, state: 'active' })
    await finishMove({ admin: world.admin, tenantId: T, connectionFor: (e) => world.connectionFor(e), force: true })
    expect(await bodiesAt(world.primary.adminUrl, `${world.prefix}t`, T)).toEqual([])
  })

  test('database → the shared pool of region eu under load; sequences moved past the imported ids', async () => {
    await moveUnderLoad({ strategy: 'pool', region: 'eu' }, { url: world.eu.adminUrl, schema: 'public' }, 'c')
    expect(await entryOf(T)).toMatchObject({ strategy: 'pool', region: 'eu', state: 'active' })
    await finishMove({ admin: world.admin, tenantId: T, connectionFor: (e) => world.connectionFor(e), force: true })
  })

  test('a write transaction open when the move begins is waited for, and its row arrives', async () => {
    const events: string[] = []
    let commit!: () => void
    const held = withTenant(T, () =>
      routers[0]!.transaction(async (tx) => {
        await tx.query(`INSERT INTO items (tenant_id, body) VALUES ($1, 'held')`, [T])
        await new Promise<void>((resolve) => {
          commit = resolve
        })
      }),
    ).then(() => events.push('committed'))
    while (commit === undefined) await new Promise((resolve) => setTimeout(resolve, 5))
    const move = moveTenant({
      ...options({ strategy: 'pool' }),
      onProgress: (p) => {
        if (p.phase === 'export' && !events.includes('export')) events.push('export')
      },
    })
    // Frozen in the directory, but the export waits for the open transaction.
    while ((await entryOf(T)).state !== 'moving') await new Promise((resolve) => setTimeout(resolve, 5))
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(events).toEqual([])
    commit()
    await Promise.all([held, move])
    expect(events).toEqual(['committed', 'export'])
    expect(await bodiesAt(world.primary.adminUrl, 'public', T)).toContain('held')
    await finishMove({ admin: world.admin, tenantId: T, connectionFor: (e) => world.connectionFor(e), force: true })
  })

  test('bad input is refused before anything changes', async () => {
    await expect(moveTenant({ ...options({ strategy: 'pool', region: 'eu' }), tenantId: 'nope' })).rejects.toMatchObject({
      code: 'INVALID_TENANT_ID',
    })
    await expect(moveTenant({ ...options({ strategy: 'pool', region: 'eu' }), tenantId: randomUUID() })).rejects.toMatchObject({
      code: 'TENANT_NOT_FOUND',
    })
    // Already there (OTHER never moved).
    await expect(moveTenant({ ...options({ strategy: 'pool' }), tenantId: OTHER })).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    await expect(moveTenant(options({ strategy: 'schema' } as never))).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    // A destination that already holds the tenant.
    const eu = new pg.Client({ connectionString: world.eu.adminUrl })
    await eu.connect()
    await eu.query(`INSERT INTO items (tenant_id, body) VALUES ($1, 'stray')`, [T])
    await expect(moveTenant(options({ strategy: 'pool', region: 'eu' }))).rejects.toMatchObject({ code: 'TENANT_EXISTS' })
    await eu.query(`DELETE FROM items WHERE body = 'stray'`)
    await eu.end()
    // Another tenant's schema.
    await world.admin.query(
      `INSERT INTO tenantscope.tenant_directory (tenant_id, strategy, schema_name, role_name) VALUES ($1, 'schema', 'taken_s', 'taken_s')`,
      [randomUUID()],
    )
    await expect(moveTenant(options({ strategy: 'schema', schema: 'taken_s', role: 'taken_s' }))).rejects.toMatchObject({
      code: 'TENANT_EXISTS',
    })
    expect(await entryOf(T)).toMatchObject({ strategy: 'pool', region: null, state: 'active' })
  })

  test('a connection killed mid-import puts the tenant back where it was, unfrozen; the rerun completes', async () => {
    const interrupted = moveTenant({
      ...options({ strategy: 'pool', region: 'eu' }),
      connectionFor: (entry) =>
        entry.region === 'eu' ? { connectionString: world.eu.adminUrl, application_name: 'move-destination' } : world.connectionFor(entry),
      onProgress: async (p) => {
        if (p.phase === 'import') {
          const eu = new pg.Client({ connectionString: world.eu.adminUrl })
          await eu.connect()
          await eu.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'move-destination'`)
          await eu.end()
        }
      },
    })
    await expect(interrupted).rejects.toMatchObject({ code: 'INTERRUPTED' })
    expect(await entryOf(T)).toMatchObject({ strategy: 'pool', region: null, state: 'active' })
    expect(
      (await world.admin.query(`SELECT 1 FROM tenantscope.tenant_moves WHERE tenant_id = $1 AND phase = 'frozen'`, [T])).rowCount,
    ).toBe(0)
    expect(await bodiesAt(world.eu.adminUrl, 'public', T)).toEqual([])
    const receipt = await moveTenant(options({ strategy: 'pool', region: 'eu' }))
    expect(receipt.resumed).toBe(false)
    expect(await entryOf(T)).toMatchObject({ region: 'eu', state: 'active' })
    // Run again: the same receipt, nothing moved twice.
    expect(await moveTenant(options({ strategy: 'pool', region: 'eu' }))).toEqual(receipt)
    await finishMove({ admin: world.admin, tenantId: T, connectionFor: (e) => world.connectionFor(e), force: true })
  })

  test('a move left frozen by a crashed run is completed by the rerun', async () => {
    // What a mover that died after the freeze leaves: the journal row and state moving.
    const from = { tenantId: T, strategy: 'pool', region: 'eu', state: 'active' }
    await world.admin.query(
      `INSERT INTO tenantscope.tenant_moves (tenant_id, source, destination, phase) VALUES ($1, $2, $3, 'frozen')
      ON CONFLICT (tenant_id) DO UPDATE SET source = $2, destination = $3, phase = 'frozen', receipt = NULL`,
      [T, JSON.stringify(from), JSON.stringify({ tenantId: T, strategy: 'pool', state: 'active' })],
    )
    await world.admin.query(`UPDATE tenantscope.tenant_directory SET state = 'moving' WHERE tenant_id = $1`, [T])
    await expect(moveTenant(options({ strategy: 'database', database: 'elsewhere' }))).rejects.toMatchObject({ code: 'MOVE_IN_PROGRESS' })
    const receipt = await moveTenant(options({ strategy: 'pool' }))
    expect(receipt.resumed).toBe(true)
    expect(await entryOf(T)).toMatchObject({ strategy: 'pool', region: null, state: 'active' })
    await finishMove({ admin: world.admin, tenantId: T, connectionFor: (e) => world.connectionFor(e), force: true })
    expect(await bodiesAt(world.eu.adminUrl, 'public', T)).toEqual([])
  })

  test('an app instance that never acknowledges: FREEZE_TIMEOUT, and the tenant is unfrozen where it was', async () => {
    const ghost = new pg.Client({ connectionString: world.primary.appUrl, application_name: 'tenantscope-directory:ghost' })
    await ghost.connect()
    try {
      await expect(moveTenant({ ...options({ strategy: 'pool', region: 'eu' }), freezeTimeoutMillis: 1000 })).rejects.toMatchObject({
        code: 'FREEZE_TIMEOUT',
      })
    } finally {
      await ghost.end()
    }
    expect(await entryOf(T)).toMatchObject({ strategy: 'pool', region: null, state: 'active' })
    expect(await bodiesAt(world.eu.adminUrl, 'public', T)).toEqual([])
  })
})
