import { withTenant } from '@tenantscope/core'
import { createTenantDirectory, createTenantRouter, type TenantEntry, type TenantRouter } from '@tenantscope/router'
import {
  APP_ROLE,
  type ContractAdapter,
  type ContractPlacement,
  type ContractSubject,
  createTestDatabase,
  type ProjectRow,
  type RawQueryable,
  type TestDatabase,
  withClient,
} from '@tenantscope/test-harness'
import pg from 'pg'
import { dropRoles, insertTenants, rolePrefix } from './_fixtures.js'

/** A kind of tenant the contract can be placed as: `region` is a pool tenant pinned to one of two regions. */
export type FleetKind = 'pool' | 'schema' | 'database' | 'region'

/** Where one tenant's rows are kept, and which tenants may have rows there. */
interface Place {
  readonly url: string
  readonly table: string
  readonly owners: ReadonlySet<string>
}

/**
 * The contract's tenants placed as the given kinds, round robin (tenant i is
 * kinds[i % kinds.length], so the contract's A and B are the first two
 * kinds), and a router over them. Each place is made as provisioning would
 * make it, from the application's schema:
 * - schema: a schema with the shared `projects` table's shape, defaults and
 *   RLS, whose only privileges belong to the tenant's role, reached through
 *   a NOINHERIT gate role;
 * - database: a database of its own (a copy of the contract's template);
 * - region: a region database ('eu' or 'us') holding its region's tenants.
 */
export function contractFleet(kinds: readonly FleetKind[]) {
  const entries = new Map<string, TenantEntry>()
  const databases = new Map<string, TestDatabase>()
  const regions = new Map<string, TestDatabase>()
  const places: Place[] = []
  let first: TenantEntry

  async function place(db: TestDatabase, tenants: readonly string[]): Promise<ContractPlacement> {
    const prefix = rolePrefix()
    const gate = `${prefix}gate`
    const kindOf = (i: number) => kinds[i % kinds.length]!
    const owned = (kind: FleetKind, region?: string) =>
      new Set(tenants.filter((_, i) => kindOf(i) === kind && (region === undefined || i % 2 === (region === 'eu' ? 0 : 1))))
    if (kinds.includes('region')) {
      for (const region of ['eu', 'us']) {
        const regionDb = await createTestDatabase()
        regions.set(region, regionDb)
        const owners = new Set([...owned('region')].filter((id) => tenants.indexOf(id) % 2 === (region === 'eu' ? 0 : 1)))
        await insertTenants(regionDb.adminUrl, [...owners])
        places.push({ url: regionDb.adminUrl, table: 'projects', owners })
      }
    }
    places.push({ url: db.adminUrl, table: 'projects', owners: owned('pool') })
    for (const [i, tenantId] of tenants.entries()) {
      const kind = kindOf(i)
      if (kind === 'pool') entries.set(tenantId, { tenantId, strategy: 'pool', state: 'active' })
      if (kind === 'region') {
        entries.set(tenantId, { tenantId, strategy: 'pool', region: i % 2 === 0 ? 'eu' : 'us', state: 'active' })
      }
      if (kind === 'schema') {
        const schema = `tenant_c${i}`
        const role = `${prefix}c${i}`
        await withClient(db.adminUrl, (admin) =>
          admin.query(`
            DO $$ BEGIN
              IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${gate}') THEN CREATE ROLE ${gate} NOLOGIN NOINHERIT; END IF;
            END $$;
            GRANT ${gate} TO ${APP_ROLE.name};
            CREATE ROLE ${role} NOLOGIN;
            GRANT ${role} TO ${gate};
            CREATE SCHEMA ${schema};
            CREATE TABLE ${schema}.projects (LIKE public.projects INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
            SELECT tenantscope.enable_tenant_rls('${schema}.projects');
            GRANT USAGE ON SCHEMA ${schema} TO ${role};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ${schema}.projects TO ${role};
          `),
        )
        entries.set(tenantId, { tenantId, strategy: 'schema', schema, role, state: 'active' })
        places.push({ url: db.adminUrl, table: `${schema}.projects`, owners: new Set([tenantId]) })
      }
      if (kind === 'database') {
        const own = await createTestDatabase()
        await insertTenants(own.adminUrl, [tenantId])
        databases.set(String(i), own)
        entries.set(tenantId, { tenantId, strategy: 'database', database: String(i), state: 'active' })
        places.push({ url: own.adminUrl, table: 'projects', owners: new Set([tenantId]) })
      }
    }
    first = entries.get(tenants[0]!)!

    // One database at a time, one connection each: the server's connection slots are shared with other test files.
    const eachPlace = async <T>(fn: (client: pg.ClientBase, place: Place) => Promise<T>): Promise<T[]> => {
      const results: T[] = []
      for (const url of new Set(places.map((p) => p.url))) {
        await withClient(url, async (client) => {
          for (const p of places.filter((p) => p.url === url)) results.push(await fn(client, p))
        })
      }
      return results
    }
    return {
      async allProjects() {
        const rows = await eachPlace(async (client, p) => {
          const { rows } = await client.query<ProjectRow>(`SELECT tenant_id, name FROM ${p.table}`)
          const stray = rows.find((row) => !p.owners.has(row.tenant_id))
          if (stray) throw new Error(`A row of another tenant is kept in ${p.table} of ${new URL(p.url).pathname}`)
          return rows
        })
        return rows.flat()
      },
      clearProjects: async () => void (await eachPlace((client, p) => client.query(`DELETE FROM ${p.table}`))),
      databases: [...databases.values(), ...regions.values()].map((d) => d.name),
      async drop() {
        await Promise.all([...databases.values(), ...regions.values()].map((d) => d.drop()))
        await withClient(db.adminUrl, async (admin) => {
          const { rows } = await admin.query<{ rolname: string }>(`SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)`, [prefix])
          for (const { rolname } of rows) await admin.query(`DROP OWNED BY ${pg.escapeIdentifier(rolname)} CASCADE`)
        })
        await dropRoles(db.adminUrl, prefix)
      },
    }
  }

  /** The router over the placed fleet, on pools of `config.max` (the cap for database tenants too), wrapped by `adapt`. */
  function subject(config: pg.PoolConfig, adapt: (router: TenantRouter) => ContractAdapter): ContractSubject {
    const primary = new pg.Pool(config)
    const regionPools = Object.fromEntries([...regions].map(([name, d]) => [name, new pg.Pool({ ...config, connectionString: d.appUrl })]))
    // The connections the router opens to each tenant database, newest last, while they are open.
    const clients = new Map<string, pg.Client[]>()
    const router = createTenantRouter({
      directory: createTenantDirectory((id) => entries.get(id)),
      pool: primary,
      regions: regionPools,
      databases: {
        connectionFor: (entry) => ({
          connectionString: databases.get(entry.database!)!.appUrl,
          Client: class extends pg.Client {
            constructor(options?: pg.ClientConfig) {
              super(options)
              const list = clients.get(entry.database!) ?? []
              clients.set(entry.database!, list)
              list.push(this)
              this.on('end', () => {
                const at = list.indexOf(this)
                if (at >= 0) list.splice(at, 1)
              })
            }
          },
        }),
        maxConnections: config.max ?? 2,
        acquireTimeoutMillis: 30_000,
      },
    })
    // The contract's probe runs unscoped on the connection the first tenant's (A's) statements use.
    const rawPool: RawQueryable =
      first.strategy === 'database'
        ? {
            async query(text) {
              // Open A's pool through the router (it opens lazily), then ask its connection.
              await withTenant(first.tenantId, () => router.query('SELECT 1'))
              return clients.get(first.database!)!.at(-1)!.query(text)
            },
          }
        : first.region !== undefined
          ? regionPools[first.region]!
          : primary
    return { adapter: adapt(router), rawPool, end: () => router.end() }
  }

  return { place, subject }
}
