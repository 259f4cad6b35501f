import { randomUUID } from 'node:crypto'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { withTenant } from '@tenantscope/core'
import {
  createTableDirectory,
  createTenant,
  createTenantRouter,
  dropTenant,
  listTenants,
  migrateTenants,
  setTenantState,
  type TenantEntry,
  type TenantRouter,
} from '@tenantscope/router'
import { APP_ROLE, createTestDatabase, type TestDatabase, withDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { dropRoles, rolePrefix } from './_fixtures.js'

// drizzle-kit's output shape: statements separated by breakpoints.
const INIT = `CREATE TABLE "notes" ("id" serial PRIMARY KEY NOT NULL, "body" text NOT NULL);
--> statement-breakpoint
CREATE INDEX "notes_body_idx" ON "notes" USING btree ("body");`
const ADD_DONE = `ALTER TABLE "notes" ADD COLUMN "done" boolean DEFAULT false NOT NULL;`

describe('provisioning and migrations across tenants', () => {
  const prefix = rolePrefix()
  const [P, S1, S2, D] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()]
  let db: TestDatabase
  let admin: pg.Pool
  let router: TenantRouter
  let appPool: pg.Pool
  let folder: string
  let databaseKey: string
  const adminFor = (entry: TenantEntry) => withDatabase(db.adminUrl, entry.database!)

  beforeAll(async () => {
    db = await createTestDatabase()
    databaseKey = `${db.name}_d`
    admin = new pg.Pool({ connectionString: db.adminUrl, max: 4 })
    folder = await mkdtemp(join(tmpdir(), 'tenantscope-router-'))
    await writeFile(join(folder, '0000_init.sql'), INIT)
    const gateRole = `${prefix}gate`
    await createTenant(admin, { tenantId: P, strategy: 'pool' })
    await createTenant(admin, {
      tenantId: S1,
      strategy: 'schema',
      schema: 'tenant_one',
      role: `${prefix}one`,
      migrations: folder,
      appRole: APP_ROLE.name,
      gateRole,
    })
    await createTenant(admin, {
      tenantId: S2,
      strategy: 'schema',
      schema: 'tenant_two',
      role: `${prefix}two`,
      migrations: folder,
      appRole: APP_ROLE.name,
      gateRole,
    })
    await createTenant(admin, { tenantId: D, strategy: 'database', database: databaseKey, migrations: folder, connectionFor: adminFor })
    // The shared schema gets the same migrations (pool tenants' tables).
    await migrateTenants({ admin, migrations: folder, tenants: [] })
    appPool = new pg.Pool({ connectionString: db.appUrl, max: 1 })
    router = createTenantRouter({
      directory: await createTableDirectory(appPool, { listen: db.appUrl }),
      pool: { connectionString: db.appUrl, max: 2 },
      databases: { connectionFor: (entry) => withDatabase(db.appUrl, entry.database!), maxConnections: 2 },
    })
    await withClientGrant(databaseKey)
  })
  afterAll(async () => {
    await router?.end()
    await appPool?.end()
    await admin?.query(`DROP DATABASE IF EXISTS ${databaseKey} WITH (FORCE)`)
    await admin?.end()
    await db?.drop()
    await dropRoles(db.adminUrl, prefix)
  })

  // The tenant database's own migrations would grant the app role; here the test does.
  async function withClientGrant(database: string) {
    const client = new pg.Client({ connectionString: withDatabase(db.adminUrl, database) })
    await client.connect()
    await client.query(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON notes TO ${APP_ROLE.name}; GRANT USAGE ON SEQUENCE notes_id_seq TO ${APP_ROLE.name}`,
    )
    await client.end()
  }

  test('listTenants lists every kind', async () => {
    const listed = await listTenants(admin)
    expect(new Map(listed.map((e) => [e.tenantId, e.strategy]))).toEqual(
      new Map([
        [P, 'pool'],
        [S1, 'schema'],
        [S2, 'schema'],
        [D, 'database'],
      ]),
    )
  })

  test('provisioned tenants are served by the router, schema tenants isolated by privileges', async () => {
    await withTenant(S1, () => router.query(`INSERT INTO notes (body) VALUES ('one')`))
    await withTenant(S2, () => router.query(`INSERT INTO notes (body) VALUES ('two, a longer note')`))
    await withTenant(D, () => router.query(`INSERT INTO notes (body) VALUES ('d')`))
    expect((await withTenant(S1, () => router.query(`SELECT body FROM notes`))).rows).toEqual([{ body: 'one' }])
    expect((await withTenant(D, () => router.query(`SELECT body FROM notes`))).rows).toEqual([{ body: 'd' }])
    await expect(withTenant(S1, () => router.query(`SELECT * FROM tenant_two.notes`))).rejects.toMatchObject({ code: '42501' })
    // The tracking table is the migrator's, not the tenant's.
    await expect(withTenant(S1, () => router.query(`DELETE FROM tenantscope_migrations`))).rejects.toMatchObject({ code: '42501' })
  })

  test('setTenantState: a read-only schema tenant keeps reading, its writes are refused, every router sees it', async () => {
    expect(await setTenantState(admin, S1, 'read_only')).toMatchObject({ tenantId: S1, state: 'read_only' })
    // Wait for the notification without writing, then write once.
    await expect.poll(() => withTenant(S1, async () => (await router.currentEntry()).state)).toBe('read_only')
    await expect(withTenant(S1, () => router.query(`INSERT INTO notes (body) VALUES ('x')`))).rejects.toMatchObject({
      code: 'TENANT_READ_ONLY',
    })
    expect((await withTenant(S1, () => router.query(`SELECT body FROM notes`))).rows).toEqual([{ body: 'one' }])
    await setTenantState(admin, S1, 'active')
    await expect.poll(() => withTenant(S1, () => router.query(`SELECT 1`)).then(() => 'served')).toBe('served')
    await expect(setTenantState(admin, randomUUID(), 'active')).rejects.toMatchObject({ code: 'TENANT_UNKNOWN' })
    await expect(setTenantState(admin, S1, 'gone' as never)).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
  })

  test('migrateTenants: dry run, then one migration reaching every target, then nothing to do', async () => {
    await writeFile(join(folder, '0001_add_done.sql'), ADD_DONE)
    const progress: number[] = []
    const dry = await migrateTenants({ admin, migrations: folder, connectionFor: adminFor, dryRun: true })
    expect(dry).toMatchObject({ ok: true, dryRun: true, targets: 4, upToDate: 0 })
    expect(dry.migrated.every((m) => m.applied.join() === '0001_add_done')).toBe(true)
    await expect(withTenant(S1, () => router.query(`SELECT done FROM notes`))).rejects.toMatchObject({ code: '42703' })

    const run = await migrateTenants({
      admin,
      migrations: folder,
      connectionFor: adminFor,
      concurrency: 2,
      onProgress: (p) => progress.push(p.done),
    })
    expect(run).toMatchObject({ ok: true, targets: 4, upToDate: 0, failed: [], skipped: 0 })
    expect(new Set(run.migrated.map((m) => m.tenantId))).toEqual(new Set([undefined, S1, S2, D]))
    expect(progress).toEqual([1, 2, 3, 4])
    // New columns reach the tenant role through the grants made after each migration.
    expect((await withTenant(S1, () => router.query(`SELECT body, done FROM notes`))).rows).toEqual([{ body: 'one', done: false }])
    expect((await withTenant(D, () => router.query(`SELECT body, done FROM notes`))).rows).toEqual([{ body: 'd', done: false }])

    const again = await migrateTenants({ admin, migrations: folder, connectionFor: adminFor })
    expect(again).toMatchObject({ ok: true, targets: 4, upToDate: 4, migrated: [] })
  })

  test('a failure on one tenant is reported with the tenant and statement; the others go on; a rerun resumes', async () => {
    await writeFile(
      join(folder, '0002_short_bodies.sql'),
      `SELECT 1;\n--> statement-breakpoint\nALTER TABLE notes ADD CONSTRAINT short_body CHECK (length(body) < 10);`,
    )
    const run = await migrateTenants({ admin, migrations: folder, connectionFor: adminFor })
    expect(run.ok).toBe(false)
    expect(run.failed).toEqual([
      expect.objectContaining({
        tenantId: S2,
        kind: 'schema',
        schema: 'tenant_two',
        migration: '0002_short_bodies',
        code: '23514',
        statement: expect.stringContaining('ADD CONSTRAINT short_body'),
      }),
    ])
    expect(run.migrated).toHaveLength(3)

    // Stop on error: with one target at a time, the targets after the failure are not attempted.
    await writeFile(join(folder, '0003_noop.sql'), `SELECT 1`)
    const all = await listTenants(admin)
    const s2First = [all.find((e) => e.tenantId === S2)!, all.find((e) => e.tenantId === S1)!]
    const stopped = await migrateTenants({ admin, migrations: folder, shared: false, concurrency: 1, onError: 'stop', tenants: s2First })
    expect(stopped).toMatchObject({ ok: false, targets: 2, skipped: 1, migrated: [] })

    await admin.query(`UPDATE tenant_two.notes SET body = 'short'`)
    const resumed = await migrateTenants({ admin, migrations: folder, connectionFor: adminFor })
    expect(resumed.ok).toBe(true)
    const byTenant = new Map(resumed.migrated.map((m) => [m.tenantId, m.applied]))
    expect(byTenant.get(S2)).toEqual(['0002_short_bodies', '0003_noop'])
    expect(byTenant.get(S1)).toEqual(['0003_noop'])
  })

  test('an edited migration that already ran is refused on every target', async () => {
    await writeFile(join(folder, '0001_add_done.sql'), `${ADD_DONE}\n-- edited`)
    const run = await migrateTenants({ admin, migrations: folder, connectionFor: adminFor })
    expect(run.ok).toBe(false)
    expect(run.failed).toHaveLength(4)
    expect(run.failed.every((f) => f.code === 'MIGRATION_CHECKSUM_MISMATCH')).toBe(true)
    await writeFile(join(folder, '0001_add_done.sql'), ADD_DONE)
  })

  test('dropTenant removes the entry first, then the schema and role, or the database', async () => {
    await withTenant(S2, () => router.query(`SELECT 1`))
    expect(await dropTenant(admin, S2)).toMatchObject({ strategy: 'schema' })
    await expect.poll(() => withTenant(S2, () => router.query(`SELECT 1`)).catch((e) => e.code)).toBe('TENANT_UNKNOWN')
    expect((await admin.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'tenant_two'`)).rowCount).toBe(0)
    expect((await admin.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [`${prefix}two`])).rowCount).toBe(0)
    expect(await dropTenant(admin, D)).toMatchObject({ strategy: 'database' })
    expect((await admin.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [databaseKey])).rowCount).toBe(0)
    expect(await dropTenant(admin, randomUUID())).toBeUndefined()
  })
})
