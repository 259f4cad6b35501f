import { randomBytes, randomUUID } from 'node:crypto'
import { withTenant } from '@tenantscope/core'
import { tenantDrizzle } from '@tenantscope/drizzle'
import { createTableDirectory, createTenant, createTenantRouter, migrationFrom, type TenantRouter } from '@tenantscope/router'
import {
  APP_ROLE,
  type CitusTestDatabase,
  createCitusTestDatabase,
  startWireCounter,
  type WireCounter,
  withClient,
} from '@tenantscope/test-harness'
import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

// The router's schema strategy (a schema and a NOLOGIN role per tenant, reached
// through a NOINHERIT gate role, search_path and role set transaction-locally
// with the statement) on Citus's schema-based sharding: each tenant schema is
// a distributed schema living on one worker.
describe('the router schema strategy on Citus schema-based sharding', () => {
  const prefix = `rc${randomBytes(3).toString('hex')}_`
  const gate = `${prefix}gate`
  const A = randomUUID()
  const B = randomUUID()
  let db: CitusTestDatabase
  let admin: pg.Pool
  let counter: WireCounter
  let router: TenantRouter

  const MIGRATIONS = [
    migrationFrom(
      '0001_notes',
      `CREATE TABLE notes (id bigint PRIMARY KEY, body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
       --> statement-breakpoint
       CREATE INDEX ON notes (created_at);`,
    ),
  ]
  const serverUrl = () => db.adminUrl.replace(/\/[^/]+$/, '/postgres')

  beforeAll(async () => {
    db = await createCitusTestDatabase({ exampleSchema: false })
    // Schemas made by this role's sessions become distributed schemas.
    admin = new pg.Pool({ connectionString: db.adminUrl, max: 1, options: '-c citus.enable_schema_based_sharding=on' })
    for (const [tenantId, schema] of [
      [A, 'tenant_a'],
      [B, 'tenant_b'],
    ] as const) {
      await createTenant(admin, {
        tenantId,
        strategy: 'schema',
        schema,
        role: `${prefix}${schema}`,
        appRole: APP_ROLE.name,
        gateRole: gate,
        migrations: MIGRATIONS,
        // Citus opens its connections to the workers as the current user: the
        // tenant role the router made current with SET LOCAL ROLE. On the workers
        // (reached only by the coordinator) it must be able to log in.
        citus: true,
      })
    }
    const directory = await createTableDirectory(admin)
    counter = await startWireCounter({ host: '127.0.0.1', port: db.coordinatorPort })
    // One connection: whatever a statement leaves behind, the next tenant's would see.
    router = createTenantRouter({ directory, pool: { connectionString: counter.url(db.appUrl), max: 1 } })
  })
  afterAll(async () => {
    await router?.end()
    await counter?.close()
    await admin?.end()
    await db?.drop()
    await withClient(serverUrl(), async (client) => {
      const { rows } = await client.query<{ rolname: string }>(`SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)`, [prefix])
      for (const { rolname } of rows) await client.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(rolname)}`)
    })
  })

  test('provisioned tenant schemas are distributed schemas, each on one worker', async () => {
    const { rows } = await admin.query(`SELECT schema_name::text AS name FROM citus_schemas ORDER BY 1`)
    expect(rows.map((row) => row.name)).toEqual(['tenant_a', 'tenant_b'])
    const placements = await admin.query(
      `SELECT table_name::text AS name, nodeport FROM citus_shards WHERE table_name::text IN ('tenant_a.notes', 'tenant_b.notes')`,
    )
    expect(placements.rows).toHaveLength(2)
    for (const { nodeport } of placements.rows) expect(db.workerPorts).toContain(Number(nodeport))
  })

  test('citus: true makes the tenant roles LOGIN on the workers only: NOLOGIN on the coordinator, where applications connect', async () => {
    const roles = [`${prefix}tenant_a`, `${prefix}tenant_b`]
    const canLogin = (url: string) =>
      withClient(url, async (client) => {
        const { rows } = await client.query<{ rolname: string; rolcanlogin: boolean }>(
          `SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = ANY($1) ORDER BY rolname`,
          [roles],
        )
        return rows
      })
    expect(await canLogin(db.adminUrl)).toEqual(roles.map((rolname) => ({ rolname, rolcanlogin: false })))
    for (const worker of db.workerAdminUrls) {
      expect(await canLogin(worker)).toEqual(roles.map((rolname) => ({ rolname, rolcanlogin: true })))
    }
    // Without the citus extension the option is refused before anything is made.
    const plainDb = `${prefix}plain`
    await withClient(serverUrl(), (client) => client.query(`CREATE DATABASE ${plainDb}`))
    const plain = new pg.Pool({ connectionString: serverUrl().replace(/\/postgres$/, `/${plainDb}`), max: 1 })
    try {
      await expect(
        createTenant(plain, { tenantId: randomUUID(), strategy: 'schema', schema: 'tenant_x', role: `${prefix}tenant_x`, citus: true }),
      ).rejects.toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringMatching(/citus extension/) })
      const made = await plain.query(
        `SELECT (SELECT count(*) FROM pg_roles WHERE rolname = $1)::int AS roles, (SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_x')::int AS schemas`,
        [`${prefix}tenant_x`],
      )
      expect(made.rows[0]).toEqual({ roles: 0, schemas: 0 })
    } finally {
      await plain.end()
      await withClient(serverUrl(), (client) => client.query(`DROP DATABASE ${plainDb}`))
    }
  })

  test('scoped statements through the router reach the tenant schema on its worker, one round trip each', async () => {
    await withTenant(A, () => router.query(`INSERT INTO notes (id, body) VALUES (1, 'a one')`))
    await withTenant(B, () => router.query(`INSERT INTO notes (id, body) VALUES (1, 'b one')`))
    counter.reset()
    const a = await withTenant(A, () => router.query('SELECT body, current_user AS role FROM notes ORDER BY id'))
    expect(counter.roundTrips()).toBe(1)
    expect(a.rows).toEqual([{ body: 'a one', role: `${prefix}tenant_a` }])
    const b = await withTenant(B, () => router.query('SELECT body FROM notes ORDER BY id'))
    expect(b.rows).toEqual([{ body: 'b one' }])
    // Routed to the one worker that holds the schema: one task.
    const plan = await withTenant(A, () => router.query('EXPLAIN (FORMAT JSON) SELECT body FROM notes WHERE id = 1'))
    expect(JSON.stringify(plan.rows[0]['QUERY PLAN'])).toMatch(/"Task Count":1\b/)
    // And on the worker, the shard holds the row (not a coordinator-local copy).
    const shard = await admin.query(`SELECT nodeport FROM citus_shards WHERE table_name = 'tenant_a.notes'::regclass`)
    const worker = db.workerAdminUrls[db.workerPorts.indexOf(Number(shard.rows[0].nodeport)) as 0 | 1]
    const onWorker = await withClient(worker, async (client) => {
      await client.query('SET citus.override_table_visibility = off')
      const { rows } = await client.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'tenant_a' AND c.relname ~ '^notes_[0-9]+$'`,
      )
      return client.query(`SELECT body FROM tenant_a.${pg.escapeIdentifier(rows[0]!.name)}`)
    })
    expect(onWorker.rows).toEqual([{ body: 'a one' }])
  })

  test('a transaction and Drizzle through the router stay in the tenant schema', async () => {
    const total = await withTenant(A, () =>
      router.transaction(async (client) => {
        await client.query(`INSERT INTO notes (id, body) VALUES (2, 'a two')`)
        return (await client.query('SELECT count(*)::int AS n FROM notes')).rows[0].n
      }),
    )
    expect(total).toBe(2)
    const orm = tenantDrizzle(drizzle(router))
    const rows = await withTenant(B, () => orm.execute(sql`SELECT body FROM notes ORDER BY id`))
    expect(rows.rows).toEqual([{ body: 'b one' }])
  })

  test("naming another tenant's schema fails by privileges, on the cluster too", async () => {
    for (const statement of [
      'SELECT body FROM tenant_b.notes',
      `INSERT INTO tenant_b.notes (id, body) VALUES (9, 'from a')`,
      'DELETE FROM tenant_b.notes',
    ]) {
      await expect(withTenant(A, () => router.query(statement))).rejects.toMatchObject({ code: '42501' })
    }
    const { rows } = await admin.query('SELECT body FROM tenant_b.notes ORDER BY id')
    expect(rows).toEqual([{ body: 'b one' }])
    // The app role itself holds no privilege on a tenant schema (NOINHERIT gate).
    const app = new pg.Client({ connectionString: db.appUrl })
    await app.connect()
    try {
      await expect(app.query('SELECT body FROM tenant_a.notes')).rejects.toMatchObject({ code: '42501' })
    } finally {
      await app.end()
    }
  })

  test('a tenant provisioned without citus: true cannot log in on the workers: fails closed with the connection error, nothing written', async () => {
    const C = randomUUID()
    await createTenant(admin, {
      tenantId: C,
      strategy: 'schema',
      schema: 'tenant_c',
      role: `${prefix}tenant_c`,
      appRole: APP_ROLE.name,
      gateRole: gate,
      migrations: MIGRATIONS,
    })
    await expect(withTenant(C, () => router.query(`INSERT INTO notes (id, body) VALUES (1, 'c one')`))).rejects.toMatchObject({
      code: '08006',
      message: expect.stringMatching(/not permitted to log in/),
    })
    const { rows } = await admin.query('SELECT count(*)::int AS n FROM tenant_c.notes')
    expect(rows[0].n).toBe(0)
  })

  test('a tenant whose schema citus_schema_move moves to the other worker keeps being served', async () => {
    const before = await admin.query(`SELECT nodeport FROM citus_shards WHERE table_name = 'tenant_a.notes'::regclass`)
    const from = Number(before.rows[0].nodeport)
    const to = db.workerPorts.find((port) => port !== from)!
    // Served all through the move: a loop of the tenant's reads and writes while it runs.
    let stop = false
    let next = 100
    const written: number[] = []
    const load = (async () => {
      while (!stop) {
        const id = next++
        await withTenant(A, () => router.query('INSERT INTO notes (id, body) VALUES ($1, $2)', [id, `during ${id}`]))
        written.push(id)
        await withTenant(A, () => router.query('SELECT count(*) FROM notes'))
      }
    })()
    await admin.query(`SELECT citus_schema_move('tenant_a', '127.0.0.1', $1, shard_transfer_mode => 'block_writes')`, [to])
    await expect.poll(() => written.length).toBeGreaterThan(0)
    stop = true
    await load
    const after = await admin.query(`SELECT nodeport FROM citus_shards WHERE table_name = 'tenant_a.notes'::regclass`)
    expect(Number(after.rows[0].nodeport)).toBe(to)
    await withTenant(A, () => router.query(`INSERT INTO notes (id, body) VALUES (3, 'after the move')`))
    const a = await withTenant(A, () => router.query('SELECT id FROM notes ORDER BY id'))
    // Every write made during the move is there once, with the ones before and after it.
    expect(a.rows.map((row) => Number(row.id))).toEqual([1, 2, 3, ...written])
    const b = await withTenant(B, () => router.query('SELECT body FROM notes ORDER BY id'))
    expect(b.rows).toEqual([{ body: 'b one' }])
    // Still isolated after the move.
    await expect(withTenant(B, () => router.query('SELECT body FROM tenant_a.notes'))).rejects.toMatchObject({ code: '42501' })
  })
})
