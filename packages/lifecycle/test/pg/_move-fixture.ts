import { randomBytes } from 'node:crypto'
import { withTenant } from '@tenantscope/core'
import { createTableDirectory, createTenantRouter, migrationFrom, type TenantRouter } from '@tenantscope/router'
import { APP_ROLE, createTestDatabase, type TestDatabase, withDatabase } from '@tenantscope/test-harness'
import pg from 'pg'

// The application's tables, the same in every place a tenant can live; the
// tenant column stays (the same code serves every strategy). Keys include
// the tenant: each place has its own sequence, so a serial id is unique per
// tenant only, and a tenant moving back must not meet another tenant's ids.
export const APP_TABLES = `
CREATE TABLE items (tenant_id uuid NOT NULL, id bigserial, body text NOT NULL UNIQUE, PRIMARY KEY (tenant_id, id));
CREATE TABLE item_tags (item_tenant uuid NOT NULL, item_id bigint NOT NULL, tag text NOT NULL,
  FOREIGN KEY (item_tenant, item_id) REFERENCES items (tenant_id, id));
GRANT SELECT, INSERT, UPDATE, DELETE ON items, item_tags TO ${APP_ROLE.name};
GRANT USAGE ON SEQUENCE items_id_seq TO ${APP_ROLE.name};
`
export const MIGRATIONS = [migrationFrom('0000_items', APP_TABLES)]

/** Two databases (primary with the directory, and region eu), the app tables shared in public with RLS in both. */
export interface MoveWorld {
  primary: TestDatabase
  eu: TestDatabase
  admin: pg.Pool
  prefix: string
  /** Databases the moves made (dropped at the end). */
  made: string[]
  /** Maintenance credentials for each place (the admin here). */
  connectionFor(entry: { strategy: string; database?: string | undefined; region?: string | undefined }): string
  /** An app instance: a router whose directory listens. */
  instance(): Promise<TenantRouter>
  end(): Promise<void>
}

export async function moveWorld(): Promise<MoveWorld> {
  const [primary, eu] = await Promise.all([createTestDatabase(), createTestDatabase()])
  const prefix = `mv${randomBytes(3).toString('hex')}_`
  for (const db of [primary, eu]) {
    const client = new pg.Client({ connectionString: db.adminUrl })
    await client.connect()
    // Only the app's tables in the shared schema.
    await client.query(`DROP TABLE invoices, projects, users, tenants CASCADE`)
    await client.query(APP_TABLES)
    await client.query(`SELECT tenantscope.enable_tenant_rls('items')`)
    await client.end()
  }
  const admin = new pg.Pool({ connectionString: primary.adminUrl, max: 4 })
  const routers: TenantRouter[] = []
  const made: string[] = []
  const appUrlOf = (key: string) => withDatabase(primary.appUrl, key)
  return {
    primary,
    eu,
    admin,
    prefix,
    made,
    connectionFor(entry) {
      if (entry.strategy === 'database') return withDatabase(primary.adminUrl, entry.database!)
      return entry.region === 'eu' ? eu.adminUrl : primary.adminUrl
    },
    async instance() {
      const listenPool = new pg.Pool({ connectionString: primary.appUrl, max: 2 })
      // A long TTL: only the notification makes an instance see a change.
      const directory = await createTableDirectory(listenPool, { listen: primary.appUrl, ttlMillis: 600_000 })
      directory.onClose(() => listenPool.end())
      const router = createTenantRouter({
        directory,
        pool: { connectionString: primary.appUrl, max: 6 },
        regions: { eu: { connectionString: eu.appUrl, max: 6 } },
        databases: { connectionFor: (entry) => appUrlOf(entry.database!), maxConnections: 12, maxPerDatabase: 6 },
      })
      router.on('error', () => undefined)
      routers.push(router)
      return router
    },
    async end() {
      await Promise.all(routers.map((router) => router.end()))
      for (const name of made) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end()
      await Promise.all([primary.drop(), eu.drop()])
      const cleanup = new pg.Client({ connectionString: withDatabase(primary.adminUrl, 'postgres') })
      await cleanup.connect()
      const { rows } = await cleanup.query<{ rolname: string }>(`SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)`, [prefix])
      for (const { rolname } of rows) await cleanup.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(rolname)}`)
      await cleanup.end()
    },
  }
}

/** A pool tenant with `items` rows (and a tag on every tenth), registered in the directory. */
export async function seedPoolTenant(world: MoveWorld, tenantId: string, items: number): Promise<void> {
  await world.admin.query(
    `INSERT INTO items (tenant_id, body) SELECT $1::uuid, 'seed-' || $1::text || '-' || g FROM generate_series(1, $2) g`,
    [tenantId, items],
  )
  await world.admin.query(
    `INSERT INTO item_tags (item_tenant, item_id, tag) SELECT tenant_id, id, 'tag' FROM items WHERE tenant_id = $1 AND id % 10 = 0`,
    [tenantId],
  )
  await world.admin.query(`INSERT INTO tenantscope.tenant_directory (tenant_id, strategy) VALUES ($1, 'pool')`, [tenantId])
}

export interface LoadResult {
  /** Bodies whose INSERT returned. */
  acknowledged: string[]
  /** Codes of every error the load saw. */
  errors: string[]
  reads: number
}

/**
 * A tenant's reads and writes through the routers until stop(): each write
 * inserts a unique body; a refused write is retried after a pause.
 */
export function startLoad(routers: TenantRouter[], tenantId: string, label: string, workers = 4) {
  const result: LoadResult = { acknowledged: [], errors: [], reads: 0 }
  let running = true
  let n = 0
  const worker = async (router: TenantRouter) => {
    while (running) {
      const body = `${label}-${n++}`
      try {
        await withTenant(tenantId, () => router.query(`INSERT INTO items (tenant_id, body) VALUES ($1, $2)`, [tenantId, body]))
        result.acknowledged.push(body)
        await withTenant(tenantId, () => router.query(`SELECT count(*) FROM items WHERE tenant_id = $1`, [tenantId]))
        result.reads++
      } catch (error) {
        result.errors.push(String((error as { code?: unknown }).code ?? (error as Error).message))
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    }
  }
  const done = Promise.all(Array.from({ length: workers }, (_, i) => worker(routers[i % routers.length]!)))
  return {
    result,
    async stop(): Promise<LoadResult> {
      running = false
      await done
      return result
    },
  }
}

/**
 * One writer that stays inside ONE withTenant for its whole life, inserting
 * in a loop (a request handler doing many statements): each statement must
 * still be routed by the tenant's live directory entry (refused while it
 * moves, sent to its new place after the switch).
 */
export function startContextWriter(router: TenantRouter, tenantId: string, label: string) {
  const result: LoadResult = { acknowledged: [], errors: [], reads: 0 }
  let running = true
  let n = 0
  const done = withTenant(tenantId, async () => {
    while (running) {
      const body = `${label}-${n++}`
      try {
        await router.query(`INSERT INTO items (tenant_id, body) VALUES ($1, $2)`, [tenantId, body])
        result.acknowledged.push(body)
      } catch (error) {
        result.errors.push(String((error as { code?: unknown }).code ?? (error as Error).message))
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    }
  })
  return {
    result,
    async stop(): Promise<LoadResult> {
      running = false
      await done
      return result
    },
  }
}

/** The tenant's item bodies at a place (schema `schema`), as the admin reads them. */
export async function bodiesAt(url: string, schema: string, tenantId: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ body: string }>(`SELECT body FROM ${schema}.items WHERE tenant_id = $1`, [tenantId])
    return rows.map((row) => row.body)
  } finally {
    await client.end()
  }
}
