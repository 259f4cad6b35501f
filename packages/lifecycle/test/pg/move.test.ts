import { randomUUID } from 'node:crypto'
import { withTenant } from '@tenantscope/core'
import type { TenantRouter } from '@tenantscope/router'
import { APP_ROLE } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { dropEmptySource } from '../../src/drop-empty-source.js'
import { finishMove, type MoveTenantOptions, moveTenant } from '../../src/index.js'
import { bodiesAt, MIGRATIONS, type MoveWorld, moveWorld, seedPoolTenant, startContextWriter, startLoad } from './_move-fixture.js'

// A tenant moves pool → schema → database → pool in region eu, each time
// under a load of its own reads and writes and another tenant's, through
// two app instances (routers whose directories listen).
describe('moveTenant', () => {
  const T = randomUUID()
  const OTHER = randomUUID()
  const OTHER_IN_SCHEMA = randomUUID()
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

  // Every acknowledged write is at the destination, once; writes were refused during the freeze, only with the
  // retryable TENANT_UNAVAILABLE; the other tenant saw nothing. One writer stays inside a single withTenant throughout.
  async function moveUnderLoad(to: MoveTenantOptions['to'], destination: { url: string; schema: string }, label: string) {
    const before = await withTenant(T, () => routers[0]!.query(`SELECT body FROM items WHERE tenant_id = $1`, [T]))
    const load = startLoad(routers, T, `${label}-t`)
    const writer = startContextWriter(routers[1]!, T, `${label}-w`)
    const other = startLoad(routers, OTHER, `${label}-o`, 2)
    await new Promise((resolve) => setTimeout(resolve, 100))
    const refused = () => [...load.result.errors, ...writer.result.errors].filter((code) => code === 'TENANT_UNAVAILABLE').length
    let held = 0
    const receipt = await moveTenant({
      ...options(to),
      // The export waits (frozen) until both kinds of writer have been refused, so the freeze is seen to hold.
      onProgress: async (p) => {
        if (p.phase !== 'export' || held > 0) return
        const since = Date.now()
        for (let i = 0; i < 500 && !(load.result.errors.length > 0 && writer.result.errors.length > 0); i++) {
          await new Promise((resolve) => setTimeout(resolve, 10))
        }
        held = Math.max(1, Date.now() - since)
      },
    })
    // Writes go on at the destination after the switch, the one-context writer's too.
    const acknowledgedAtSwitch = load.result.acknowledged.length
    const writtenAtSwitch = writer.result.acknowledged.length
    while (load.result.acknowledged.length < acknowledgedAtSwitch + 20 || writer.result.acknowledged.length < writtenAtSwitch + 5) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const [mine, written, others] = await Promise.all([load.stop(), writer.stop(), other.stop()])
    expect(new Set([...mine.errors, ...written.errors])).toEqual(new Set(['TENANT_UNAVAILABLE']))
    expect(refused()).toBeGreaterThan(0)
    expect(written.errors.length).toBeGreaterThan(0)
    expect(others.errors).toEqual([])
    expect(mine.reads).toBeGreaterThan(0)
    const at = await bodiesAt(destination.url, destination.schema, T)
    expect(at.length).toBe(new Set(at).size)
    expect(new Set(at)).toEqual(new Set([...before.rows.map((r) => r.body as string), ...mine.acknowledged, ...written.acknowledged]))
    expect(receipt.instances).toBe(2)
    // The frozen window covers the export, held above until writes were refused; and lies within the move.
    expect(receipt.frozenMillis).toBeGreaterThanOrEqual(held)
    expect(receipt.frozenMillis).toBeLessThanOrEqual(receipt.wallMillis)
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
    // A pool source: the shared schema stays.
    expect(finished.sourcePlace).toBeUndefined()
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
    const finished = await finishMove({ admin: world.admin, tenantId: T, connectionFor: (e) => world.connectionFor(e), force: true })
    expect(finished.erased).toMatchObject({ verified: true })
    // The old schema, empty now, and its tenant role are gone.
    expect(finished.sourcePlace).toEqual({ dropped: true, name: `${world.prefix}t` })
    const left = await world.admin.query(
      `SELECT (SELECT count(*)::int FROM pg_namespace WHERE nspname = $1) AS schemas, (SELECT count(*)::int FROM pg_roles WHERE rolname = $1) AS roles`,
      [`${world.prefix}t`],
    )
    expect(left.rows).toEqual([{ schemas: 0, roles: 0 }])
  })

  test('database → the shared pool of region eu under load; sequences moved past the imported ids', async () => {
    await moveUnderLoad({ strategy: 'pool', region: 'eu' }, { url: world.eu.adminUrl, schema: 'public' }, 'c')
    expect(await entryOf(T)).toMatchObject({ strategy: 'pool', region: 'eu', state: 'active' })
    const finished = await finishMove({ admin: world.admin, tenantId: T, connectionFor: (e) => world.connectionFor(e), force: true })
    // The tenant's own database, empty now, is gone.
    expect(finished.sourcePlace).toEqual({ dropped: true, name: `${world.prefix}db` })
    expect((await world.admin.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [`${world.prefix}db`])).rowCount).toBe(0)
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

  // An app instance's listener that answers nothing, or answers as told.
  async function fakeInstance(name: string, answer?: (tenant: string) => object): Promise<pg.Client> {
    const fake = new pg.Client({ connectionString: world.primary.appUrl, application_name: `tenantscope-directory:${name}` })
    fake.on('error', () => undefined)
    await fake.connect()
    if (answer) {
      fake.on('notification', (message) => {
        if (message.channel !== 'tenantscope_directory' || !message.payload) return
        const payload = JSON.stringify({ instance: name, tenant: message.payload, ...answer(message.payload) })
        fake.query('SELECT pg_notify($1, $2)', ['tenantscope_directory_ack', payload]).catch(() => undefined)
      })
      await fake.query('LISTEN tenantscope_directory')
    }
    return fake
  }
  const journalOf = async (id: string) =>
    (await world.admin.query(`SELECT phase FROM tenantscope.tenant_moves WHERE tenant_id = $1`, [id])).rows[0]?.phase

  test('a row changed outside the routers during the freeze, counts unchanged: VERIFY_FAILED, undone, the change kept', async () => {
    const { rows } = await world.admin.query(`SELECT id FROM items WHERE tenant_id = $1 ORDER BY id LIMIT 1`, [T])
    let changed = false
    const move = moveTenant({
      ...options({ strategy: 'pool', region: 'eu' }),
      onProgress: async (p) => {
        if (p.phase !== 'export' || changed) return
        changed = true
        // After the export's snapshot; the admin does not go through a router, so the freeze does not stop it.
        await world.admin.query(`UPDATE items SET body = 'changed outside' WHERE tenant_id = $1 AND id = $2`, [T, rows[0].id])
      },
    })
    await expect(move).rejects.toMatchObject({ code: 'VERIFY_FAILED' })
    expect(await entryOf(T)).toMatchObject({ strategy: 'pool', region: null, state: 'active' })
    // Undone: the move's journal row is gone.
    expect(await journalOf(T)).toBeUndefined()
    expect(await bodiesAt(world.eu.adminUrl, 'public', T)).toEqual([])
    expect(await bodiesAt(world.primary.adminUrl, 'public', T)).toContain('changed outside')
  })

  test('an acknowledgement of an older version of the entry (a late answer to another freeze) does not count', async () => {
    const stale = await fakeInstance('stale', () => ({ state: 'moving', version: '1' }))
    try {
      await expect(moveTenant({ ...options({ strategy: 'pool', region: 'eu' }), freezeTimeoutMillis: 1000 })).rejects.toMatchObject({
        code: 'FREEZE_TIMEOUT',
      })
    } finally {
      await stale.end()
    }
    expect(await entryOf(T)).toMatchObject({ strategy: 'pool', region: null, state: 'active' })
    expect(await bodiesAt(world.eu.adminUrl, 'public', T)).toEqual([])
  })

  test('FREEZE_TIMEOUT on a resumed move also empties its partial import at the destination', async () => {
    // A mover that died mid-import (left frozen, part of the rows at eu), and an instance that never answers.
    await world.admin.query(
      `INSERT INTO tenantscope.tenant_moves (tenant_id, source, destination, phase) VALUES ($1, $2, $3, 'frozen')
      ON CONFLICT (tenant_id) DO UPDATE SET source = $2, destination = $3, phase = 'frozen', receipt = NULL`,
      [
        T,
        JSON.stringify({ tenantId: T, strategy: 'pool', state: 'active' }),
        JSON.stringify({ tenantId: T, strategy: 'pool', region: 'eu', state: 'active' }),
      ],
    )
    await world.admin.query(`UPDATE tenantscope.tenant_directory SET state = 'moving' WHERE tenant_id = $1`, [T])
    const eu = new pg.Client({ connectionString: world.eu.adminUrl })
    await eu.connect()
    await eu.query(`INSERT INTO items (tenant_id, body) VALUES ($1, 'partial import')`, [T])
    await eu.end()
    const ghost = await fakeInstance('silent')
    try {
      await expect(moveTenant({ ...options({ strategy: 'pool', region: 'eu' }), freezeTimeoutMillis: 1000 })).rejects.toMatchObject({
        code: 'FREEZE_TIMEOUT',
      })
    } finally {
      await ghost.end()
    }
    expect(await entryOf(T)).toMatchObject({ strategy: 'pool', region: null, state: 'active' })
    expect(await journalOf(T)).toBeUndefined()
    expect(await bodiesAt(world.eu.adminUrl, 'public', T)).toEqual([])
  })

  test('a failure once the freeze began: INTERRUPTED, says the tenant may stay frozen and to run again; the rerun completes', async () => {
    const admin = new pg.Pool({ connectionString: world.primary.adminUrl, application_name: 'mover-to-kill', max: 4 })
    admin.on('error', () => undefined)
    const ghost = await fakeInstance('silent')
    try {
      const move = moveTenant({ ...options({ strategy: 'pool', region: 'eu' }), admin }).catch((error) => error)
      while ((await entryOf(T)).state !== 'moving') await new Promise((resolve) => setTimeout(resolve, 5))
      await world.admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'mover-to-kill'`)
      const error = await move
      expect(error).toMatchObject({ code: 'INTERRUPTED' })
      expect(error.message).toMatch(/frozen.*Run the move again/)
    } finally {
      await ghost.end()
      await admin.end()
    }
    expect(await entryOf(T)).toMatchObject({ strategy: 'pool', region: null, state: 'moving' })
    const receipt = await moveTenant(options({ strategy: 'pool', region: 'eu' }))
    expect(receipt.resumed).toBe(true)
    expect(await entryOf(T)).toMatchObject({ strategy: 'pool', region: 'eu', state: 'active' })
    await finishMove({ admin: world.admin, tenantId: T, connectionFor: (e) => world.connectionFor(e), force: true })
    expect(await bodiesAt(world.primary.adminUrl, 'public', T)).toEqual([])
  })

  test('an old place checked through a role that row security applies to: kept, never judged empty by hidden rows', async () => {
    const schema = `${world.prefix}hidden`
    await world.admin.query(
      `CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.notes (tenant_id text, body text);
       INSERT INTO ${schema}.notes VALUES ('someone else', 'left');
       ALTER TABLE ${schema}.notes ENABLE ROW LEVEL SECURITY; ALTER TABLE ${schema}.notes FORCE ROW LEVEL SECURITY;
       CREATE POLICY only_current ON ${schema}.notes USING (tenant_id = current_setting('app.current_tenant', true));
       GRANT USAGE ON SCHEMA ${schema} TO ${APP_ROLE.name}; GRANT SELECT, UPDATE, DELETE ON ${schema}.notes TO ${APP_ROLE.name}`,
    )
    // A region's place is checked through the erase's own connection: here one of the app role.
    const client = new pg.Client({ connectionString: world.primary.appUrl })
    await client.connect()
    try {
      const entry = { tenantId: randomUUID(), strategy: 'schema' as const, schema, region: 'nowhere', state: 'active' as const }
      const place = await dropEmptySource(world.admin, entry, client, ['public'])
      expect(place).toMatchObject({ dropped: false, name: schema, reason: expect.stringMatching(/row-level security/) })
      expect((await world.admin.query(`SELECT count(*)::int AS n FROM ${schema}.notes`)).rows).toEqual([{ n: 1 }])
    } finally {
      await client.end()
    }
  })

  test("an old place that is not empty, someone else's, or shared is kept, with the reason", async () => {
    const schema = `${world.prefix}keep`
    await world.admin.query(
      `CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.notes (body text); INSERT INTO ${schema}.notes VALUES ('left')`,
    )
    const client = new pg.Client({ connectionString: world.primary.adminUrl })
    await client.connect()
    try {
      const entry = { tenantId: randomUUID(), strategy: 'schema' as const, schema, role: schema, state: 'active' as const }
      expect(await dropEmptySource(world.admin, entry, client, ['public'])).toEqual({
        dropped: false,
        name: schema,
        reason: `${schema}.notes still holds rows`,
      })
      await world.admin.query(`TRUNCATE ${schema}.notes`)
      await world.admin.query(
        `INSERT INTO tenantscope.tenant_directory (tenant_id, strategy, schema_name, role_name) VALUES ($1, 'schema', $2, $2)`,
        [OTHER_IN_SCHEMA, schema],
      )
      expect(await dropEmptySource(world.admin, entry, client, ['public'])).toMatchObject({
        dropped: false,
        reason: 'another tenant lives there',
      })
      expect(await dropEmptySource(world.admin, { ...entry, schema: 'public' }, client, ['public'])).toMatchObject({
        dropped: false,
        reason: 'a shared schema',
      })
      const primary = (await client.query('SELECT current_database() AS db')).rows[0].db
      expect(
        await dropEmptySource(world.admin, { tenantId: entry.tenantId, strategy: 'database', database: primary, state: 'active' }, client, [
          'public',
        ]),
      ).toMatchObject({
        dropped: false,
        reason: "the directory's own database",
      })
      expect((await world.admin.query(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1`, [schema])).rows).toEqual([{ n: 1 }])
    } finally {
      await client.end()
    }
  })
})
