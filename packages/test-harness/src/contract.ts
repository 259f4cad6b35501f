import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { TenantScopeError, withTenant } from '@tenantscope/core'
import fc from 'fast-check'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import type { HarnessInfo } from './harness-info.js'
import { APP_ROLE } from './roles.js'
import { createTestDatabase, type TestDatabase } from './test-database.js'

/** A project row as the contract sees it. */
export interface ProjectRow {
  tenant_id: string
  name: string
}

/**
 * The same operations expressed through one adapter (the raw TenantPool,
 * Drizzle, later Kysely or Prisma). Every method runs in the caller's tenant
 * context, through the adapter, against the example schema's `projects`.
 */
export interface ContractAdapter {
  insertProject(name: string): Promise<void>
  /** An INSERT naming another tenant explicitly: must be refused by WITH CHECK. */
  insertProjectFor(tenantId: string, name: string): Promise<void>
  listProjects(): Promise<ProjectRow[]>
  /** UPDATE every visible project; returns the row count. */
  renameProjects(name: string): Promise<number>
  /** UPDATE that moves visible rows to another tenant: must be refused by WITH CHECK. */
  moveProjectsTo(tenantId: string): Promise<number>
  deleteProjects(): Promise<number>
  /** Runs fn in one transaction of the adapter; fn's adapter is bound to it. */
  transaction<T>(fn: (tx: ContractAdapter) => Promise<T>): Promise<T>
  /** A statement the database rejects (division by zero). */
  failingStatement(): Promise<unknown>
}

/** An unscoped way to query the connections an adapter uses: a pg.Pool, or the same over another driver. */
export interface RawQueryable {
  query(text: string): Promise<{ rows: any[] }>
}

export interface ContractSubject {
  adapter: ContractAdapter
  /** The underlying pool (unscoped) the adapter draws connections from: a pg.Pool for pg-based adapters. */
  rawPool: RawQueryable
  end(): Promise<void>
}

/**
 * Where the contract's tenants live, when a subject keeps them apart by more
 * than RLS on the contract database's one `projects` table (the router's
 * schema, database and region tenants). Made once, before any test.
 */
export interface ContractPlacement {
  /**
   * Every project row, wherever it is kept, read as the admin (past RLS and
   * privileges). Throws if a row is kept in another tenant's place (schema,
   * database, region): a misrouted write, even one RLS would hide.
   */
  allProjects(): Promise<ProjectRow[]>
  /** Deletes every project row, wherever it is kept. */
  clearProjects(): Promise<void>
  /** Other databases the subject connects to as the app role: their backends are killed and awaited like the contract database's. */
  readonly databases: readonly string[]
  drop(): Promise<void>
}

/** Places the contract's tenants (the contract database already lists them in `tenants`). */
export type ContractPlace = (db: TestDatabase, tenants: readonly string[]) => Promise<ContractPlacement>

/** Builds the adapter under test over a pg.Pool config (app role, small pool). */
export type ContractFactory = (config: pg.PoolConfig) => Promise<ContractSubject> | ContractSubject

const TENANT_COUNT = 20
const TASKS = 200

/**
 * The isolation contract every adapter must keep. Connected as the app role
 * (not superuser, not BYPASSRLS, owns nothing), on a pool of two connections.
 */
export interface ContractOptions {
  /** The PostgreSQL to run against (the version matrix's); default: the run's. */
  harness?: () => HarnessInfo
  /**
   * The subject reaches PostgreSQL through a pooler (PgBouncer) that keeps its
   * server connections after the subject ends: do not wait for them to close
   * between tests.
   */
  throughPooler?: boolean
  /**
   * In the killed-connection test, send the transaction's next statement
   * 50 ms after the kill instead of once the killed backend is gone: for
   * postgres.js 3.4, which crashes (an uncaught TypeError, writing to a null
   * socket) when a statement is sent on a connection it already saw close.
   * @default true
   */
  waitForKilledBackends?: boolean
  /** Where the contract's database comes from. @default createTestDatabase (the run's PostgreSQL) */
  createDatabase?: () => Promise<TestDatabase>
  /**
   * SQLSTATEs that refuse an UPDATE moving rows to another tenant. Citus
   * refuses to change a distribution column (0A000) before RLS is asked.
   * @default ['42501']
   */
  moveRefusedWith?: readonly string[]
  /**
   * Where each tenant's rows are kept. The factory is called after it, so it
   * can route to what it made. @default every tenant in the contract database's `projects`
   */
  place?: ContractPlace
}

export function describeTenantContract(name: string, factory: ContractFactory, options: ContractOptions = {}): void {
  describe(`tenant isolation contract: ${name}`, () => {
    let db: TestDatabase
    let admin: pg.Pool
    let placement: ContractPlacement
    const tenants = Array.from({ length: TENANT_COUNT }, () => randomUUID())
    const [A, B] = tenants as [string, string]

    beforeAll(async () => {
      db = await (options.createDatabase ?? (() => createTestDatabase(options.harness?.())))()
      admin = new pg.Pool({ connectionString: db.adminUrl, max: 2 })
      await admin.query(`INSERT INTO tenants (id, name) SELECT id, 'tenant ' || id FROM unnest($1::uuid[]) AS id`, [tenants])
      placement = await (options.place ?? sharedTable(admin))(db, tenants)
    })
    afterAll(async () => {
      await placement?.drop()
      await admin?.end()
      await db?.drop()
    })

    const appRoleBackends = () => appRoleBackendsIn(admin, placement.databases)

    async function withSubject<T>(max: number, fn: (subject: ContractSubject) => Promise<T>): Promise<T> {
      const subject = await factory({ connectionString: db.appUrl, max })
      try {
        return await fn(subject)
      } finally {
        await subject.end()
        // pg.Pool#end() resolves before its sockets close. A backend still closing would be
        // killed by the next test's pg_terminate_backend, and its client would report it as
        // an idle error after the test that made it.
        if (!options.throughPooler) {
          await vi.waitUntil(async () => (await appRoleBackends()).rows.length === 0, { timeout: 5_000, interval: 20 })
        }
      }
    }

    const clearProjects = () => placement.clearProjects()
    const countProjects = async () => (await placement.allProjects()).length

    test('the connection is not superuser, not BYPASSRLS, and owns no tenant table', async () => {
      await withSubject(1, async ({ rawPool }) => {
        const { rows } = await rawPool.query(`
          SELECT r.rolsuper, r.rolbypassrls,
                 (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid AND c.relkind IN ('r', 'p'))::int AS owned
            FROM pg_roles r WHERE r.rolname = current_user`)
        expect(rows).toEqual([{ rolsuper: false, rolbypassrls: false, owned: 0 }])
      })
    })

    test('outside withTenant every operation is refused before reaching the database', async () => {
      await withSubject(1, async ({ adapter }) => {
        for (const attempt of [
          () => adapter.listProjects(),
          () => adapter.insertProject('no tenant'),
          () => adapter.renameProjects('x'),
          () => adapter.transaction((tx) => tx.listProjects()),
        ]) {
          await expect(attempt()).rejects.toMatchObject({ name: 'TenantScopeError', code: 'TENANT_CONTEXT_MISSING' })
        }
      })
      expect(await countProjects()).toBe(0)
    })

    test('a tenant sees, updates and deletes only its own rows', async () => {
      await clearProjects()
      await withSubject(2, async ({ adapter }) => {
        await withTenant(A, () => adapter.insertProject('a1'))
        await withTenant(B, () => adapter.insertProject('b1'))
        expect(await withTenant(A, () => adapter.listProjects())).toEqual([{ tenant_id: A, name: 'a1' }])
        expect(await withTenant(A, () => adapter.renameProjects('renamed'))).toBe(1)
        expect(await withTenant(B, () => adapter.listProjects())).toEqual([{ tenant_id: B, name: 'b1' }])
        expect(await withTenant(A, () => adapter.deleteProjects())).toBe(1)
        expect(await withTenant(B, () => adapter.listProjects())).toEqual([{ tenant_id: B, name: 'b1' }])
      })
    })

    test('cross-tenant INSERT and UPDATE are refused by WITH CHECK', async () => {
      await clearProjects()
      await withSubject(2, async ({ adapter }) => {
        await expect(withTenant(A, () => adapter.insertProjectFor(B, 'forged'))).rejects.toMatchObject({ code: '42501' })
        await withTenant(A, () => adapter.insertProject('mine'))
        const moveRefusedWith = options.moveRefusedWith ?? ['42501']
        await expect(withTenant(A, () => adapter.moveProjectsTo(B))).rejects.toSatisfy((error: { code?: string }) =>
          moveRefusedWith.includes(error?.code ?? ''),
        )
      })
      expect(await placement.allProjects()).toEqual([{ tenant_id: A, name: 'mine' }])
    })

    test('a transaction runs every statement for its tenant and rolls back on throw', async () => {
      await clearProjects()
      await withSubject(1, async ({ adapter }) => {
        const seen = await withTenant(A, () =>
          adapter.transaction(async (tx) => {
            await tx.insertProject('in tx 1')
            await tx.insertProject('in tx 2')
            return tx.listProjects()
          }),
        )
        expect(seen.map((row) => row.tenant_id)).toEqual([A, A])
        const boom = new Error('boom')
        await expect(
          withTenant(B, () =>
            adapter.transaction(async (tx) => {
              await tx.insertProject('rolled back')
              throw boom
            }),
          ),
        ).rejects.toBe(boom)
        expect(await withTenant(B, () => adapter.listProjects())).toEqual([])
      })
    })

    test('errors and rollbacks leave the next checkout of the same connection without a tenant', async () => {
      await withSubject(1, async ({ adapter, rawPool }) => {
        const probe = async () =>
          (
            await rawPool.query(
              `SELECT pg_backend_pid() AS pid, current_setting('app.current_tenant', true) AS tenant, current_user = session_user AS own_role`,
            )
          ).rows[0]
        const before = await probe()
        await expect(withTenant(A, () => adapter.failingStatement())).rejects.toMatchObject({ code: '22012' })
        await expect(
          withTenant(A, () =>
            adapter.transaction(async (tx) => {
              await tx.listProjects()
              await tx.failingStatement()
            }),
          ),
        ).rejects.toMatchObject({ code: '22012' })
        await withTenant(A, () => adapter.listProjects())
        const after = await probe()
        expect(after.pid).toBe(before.pid) // the same physical connection, reused
        expect(after.tenant ?? '').toBe('')
        // No role made current for a tenant (SET LOCAL ROLE) is left behind either.
        expect(after.own_role).toBe(true)
      })
    })

    test('a connection killed mid-transaction does not poison the pool', async () => {
      await clearProjects()
      await withSubject(1, async ({ adapter, rawPool }) => {
        const killed = withTenant(A, () =>
          adapter.transaction(async (tx) => {
            await tx.insertProject('never committed')
            const { rows } = await appRoleBackends()
            const pids = rows.map((row) => row.pid)
            for (const pid of pids) await admin.query('SELECT pg_terminate_backend($1::int)', [pid])
            // Wait on the condition itself: the killed backends are gone.
            if (options.waitForKilledBackends !== false) {
              await vi.waitUntil(
                async () => (await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = ANY($1)', [pids])).rows.length === 0,
                { timeout: 10_000, interval: 20 },
              )
            } else {
              // postgres.js: the kill must land while the next statement is on its way, not
              // after the client saw the socket close (see the option); no condition to wait on.
              await new Promise((resolve) => setTimeout(resolve, 50))
            }
            await tx.listProjects()
          }),
        )
        // The transaction fails because its connection is gone, not for any other reason.
        await expect(killed).rejects.toSatisfy(isConnectionLost)
        // The pool hands out a fresh connection that works and carries nothing.
        expect(await withTenant(B, () => adapter.listProjects())).toEqual([])
        const { rows } = await rawPool.query(`SELECT current_setting('app.current_tenant', true) AS tenant`)
        expect(rows[0].tenant ?? '').toBe('')
      })
      expect(await countProjects()).toBe(0)
    })

    test(`${TASKS} concurrent tasks over ${TENANT_COUNT} tenants on a pool of 2 never see or write another tenant's rows`, async () => {
      await clearProjects()
      const operation = fc.record({
        tenant: fc.integer({ min: 0, max: TENANT_COUNT - 1 }),
        kind: fc.constantFrom('insert', 'list', 'transaction', 'rename', 'fail'),
        delayMs: fc.integer({ min: 0, max: 3 }),
      })
      await withSubject(2, async ({ adapter }) => {
        await fc.assert(
          fc.asyncProperty(fc.array(operation, { minLength: TASKS, maxLength: TASKS }), async (operations) => {
            const run = async (op: { tenant: number; kind: string; delayMs: number }, index: number) => {
              const tenant = tenants[op.tenant]!
              const own = (rows: ProjectRow[]) => rows.every((row) => row.tenant_id === tenant && row.name.startsWith(`${tenant}:`))
              await withTenant(tenant, async () => {
                await sleep(op.delayMs)
                switch (op.kind) {
                  case 'insert':
                    await adapter.insertProject(`${tenant}:${index}`)
                    break
                  case 'list':
                    expect(own(await adapter.listProjects())).toBe(true)
                    break
                  case 'transaction':
                    await adapter.transaction(async (tx) => {
                      await tx.insertProject(`${tenant}:${index}`)
                      await sleep(op.delayMs)
                      expect(own(await tx.listProjects())).toBe(true)
                    })
                    break
                  case 'rename':
                    await adapter.renameProjects(`${tenant}:renamed`)
                    break
                  case 'fail':
                    await expect(adapter.failingStatement()).rejects.toMatchObject({ code: '22012' })
                    break
                }
              })
            }
            await Promise.all(operations.map(run))
            for (const row of await placement.allProjects()) expect(row.name.startsWith(`${row.tenant_id}:`)).toBe(true)
          }),
          { numRuns: 3, seed: 20261126 },
        )
      })
    })

    test('bad tenant ids are refused with INVALID_TENANT_ID', async () => {
      await withSubject(1, async ({ adapter }) => {
        for (const bad of badTenantIds) {
          const attempt = withTenant(bad as string, () => adapter.listProjects())
          await expect(attempt).rejects.toSatisfy((error) => TenantScopeError.is(error, 'INVALID_TENANT_ID'))
        }
      })
    })
  })
}

/** Ids a UUID tenant pool must refuse: each is a test case. */
export const badTenantIds: readonly unknown[] = [
  '',
  "'; DROP TABLE projects; --",
  "00000000-0000-0000-0000-000000000000'; DROP TABLE projects; --",
  42,
  null,
  undefined,
  { id: 'x' },
  'a'.repeat(10_000),
  '１１１１１１１１-1111-1111-1111-111111111111', // full-width digits
  '11111111-1111-1111-1111-11111111111１',
  '11111111‐1111‐1111‐1111‐111111111111', // unicode hyphens
  ' 11111111-1111-1111-1111-111111111111',
  '11111111-1111-1111-1111-111111111111\n',
  '{11111111-1111-1111-1111-111111111111}',
  '111111111111111111111111111111111111',
]

// Backends of the app role in this database: the subject's connections, never
// the admin's own.
/**
 * The error of a statement whose connection was killed, as pg reports it:
 * 57P01 when the server's message arrived first, pg's own "terminated" or
 * "not queryable" error, or the socket's ECONNRESET/EPIPE when the statement
 * was written after the server closed it (seen under load); also inside a
 * driver's wrapper (a cause).
 */
function isConnectionLost(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    // pg's and Node's codes; postgres.js reports CONNECTION_CLOSED / CONNECTION_DESTROYED.
    if (
      ['57P01', 'ECONNRESET', 'EPIPE', 'CONNECTION_CLOSED', 'CONNECTION_DESTROYED'].includes(String((current as { code?: unknown }).code))
    )
      return true
    if (/Connection terminated|not queryable|terminating connection/i.test(current.message)) return true
  }
  return false
}

function appRoleBackendsIn(admin: pg.Pool, others: readonly string[]) {
  return admin.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE usename = $1 AND (datname = current_database() OR datname = ANY($2::text[]))`,
    [APP_ROLE.name, others],
  )
}

/** The default placement: every tenant's rows in the contract database's `projects`, kept apart by RLS. */
function sharedTable(admin: pg.Pool): ContractPlace {
  return async () => ({
    allProjects: async () => (await admin.query<ProjectRow>('SELECT tenant_id, name FROM projects')).rows,
    clearProjects: async () => void (await admin.query('DELETE FROM projects')),
    databases: [],
    drop: async () => undefined,
  })
}
