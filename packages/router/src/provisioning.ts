import { TenantScopeError } from '@tenantscope/core'
import pg from 'pg'
import type { ConnectionResolver } from './database-pools.js'
import { isPlainName, type TenantEntry, type TenantState, type TenantStrategy, validateEntry } from './directory-entry.js'
import { grantSchemaTo, migrateTarget } from './migrate-target.js'
import { type MigrationFile, readMigrationsFolder } from './migration-files.js'
import { entryFromRow } from './table-directory.js'

/** The NOLOGIN, NOINHERIT role between the app's login role and the tenant roles. */
export const DEFAULT_GATE_ROLE = 'tenantscope_tenants'

export interface CreateTenantOptions {
  tenantId: string
  strategy: TenantStrategy
  /** `schema`: the schema to create. */
  schema?: string
  /** `schema`: the tenant's NOLOGIN role (roles are cluster-wide). @default the schema name */
  role?: string
  /** `database`: the directory's key for the database, and the database to create. */
  database?: string
  region?: string
  /** The application's migrations, applied to the new schema or database. */
  migrations?: string | readonly MigrationFile[]
  /**
   * `schema`: the login role the app connects as. It is made a member of the
   * gate role, which is a member of every tenant role: the app can SET ROLE
   * to a tenant role, but (NOINHERIT) holds none of their privileges itself.
   */
  appRole?: string
  /** @default 'tenantscope_tenants' */
  gateRole?: string
  /** `database`: credentials of the new database for running the migrations. */
  connectionFor?: ConnectionResolver
  /**
   * `schema` with a `region`: that region's database, where the schema is
   * made (the directory row still goes to `admin`). Required for them: a
   * region tenant's schema is never made on the primary by mistake.
   */
  regionAdmin?: pg.Pool
  /**
   * `schema` on a Citus coordinator (schema-based sharding): the tenant role
   * is made LOGIN on the workers, where Citus connects as the current user,
   * which inside a scoped statement is the tenant role. It stays NOLOGIN on
   * the coordinator, where applications connect, and gets no password
   * (docs/citus.md). Refused where the citus extension is not installed.
   * @default false
   */
  citus?: boolean
}

/**
 * Provisions a tenant and records it in tenantscope.tenant_directory, last,
 * so a half-made tenant is never routed. `admin` is the primary database as
 * a role allowed to create schemas, roles and databases.
 */
export async function createTenant(admin: pg.Pool, options: CreateTenantOptions): Promise<TenantEntry> {
  const entry = validateEntry({
    tenantId: options.tenantId,
    strategy: options.strategy,
    schema: options.schema,
    role: options.strategy === 'schema' ? (options.role ?? options.schema) : undefined,
    database: options.database,
    region: options.region,
    state: 'active',
  })
  if (typeof entry.tenantId !== 'string' || entry.tenantId.length === 0) {
    throw new TenantScopeError('INVALID_TENANT_ID', 'A tenant id is required')
  }
  await provisionPlacement(admin, entry, options)
  await admin.query(
    `INSERT INTO tenantscope.tenant_directory (tenant_id, strategy, schema_name, role_name, database_key, region, state)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [entry.tenantId, entry.strategy, entry.schema ?? null, entry.role ?? null, entry.database ?? null, entry.region ?? null, entry.state],
  )
  return entry
}

/** What provisionPlacement takes beside the entry: migrations, roles, credentials. */
export type PlacementOptions = Omit<CreateTenantOptions, 'tenantId' | 'strategy' | 'schema' | 'role' | 'database' | 'region'>

/**
 * Makes the schema (and role) or the database of `entry` and applies the
 * migrations, without touching the directory: createTenant's first half,
 * and where a tenant move puts a tenant. Nothing for `pool`.
 */
export async function provisionPlacement(admin: pg.Pool, entry: TenantEntry, options: PlacementOptions): Promise<void> {
  const given = options.migrations ?? []
  const migrations = typeof given === 'string' ? await readMigrationsFolder(given) : given
  if (entry.strategy === 'schema') {
    if (entry.region !== undefined && options.regionAdmin === undefined) {
      throw new TenantScopeError('INVALID_CONFIG', "A schema tenant in a region needs regionAdmin, that region's database")
    }
    await createSchemaTenant(options.regionAdmin ?? admin, entry, migrations, options)
  }
  if (entry.strategy === 'database') await createDatabaseTenant(admin, entry, migrations, options)
}

async function createSchemaTenant(admin: pg.Pool, entry: TenantEntry, migrations: readonly MigrationFile[], options: PlacementOptions) {
  const gate = options.gateRole ?? DEFAULT_GATE_ROLE
  if (!isPlainName(gate) || (options.appRole !== undefined && !isPlainName(options.appRole))) {
    throw new TenantScopeError('INVALID_CONFIG', 'gateRole and appRole must be lower-case identifiers')
  }
  if (options.citus === true) await requireCitus(admin)
  const client = await admin.connect()
  let broken: Error | undefined
  try {
    await client.query('BEGIN')
    // Serialises gate creation between concurrent provisioners.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('tenantscope:gate'))`)
    const { rowCount } = await client.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [gate])
    if (rowCount === 0) await client.query(`CREATE ROLE ${gate} NOLOGIN NOINHERIT`)
    if (options.appRole !== undefined) await client.query(`GRANT ${gate} TO ${options.appRole}`)
    await client.query(`CREATE ROLE ${entry.role} NOLOGIN; GRANT ${entry.role} TO ${gate}; CREATE SCHEMA ${entry.schema}`)
    await grantSchemaTo(client, entry.schema!, entry.role!, false)
    await client.query('COMMIT')
  } catch (error) {
    broken = error as Error
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  } finally {
    client.release(broken)
  }
  if (options.citus === true) {
    // After COMMIT: Citus creates the role on the workers in the coordinator's
    // transaction, and run_command_on_workers uses connections of its own.
    await loginOnWorkers(admin, entry.role!).catch(async (error: unknown) => {
      await dropSchemaTenant(admin, entry)
      throw error
    })
  }
  await applyOrUndo(admin, entry, migrations, () => dropSchemaTenant(admin, entry))
}

async function requireCitus(admin: pg.Pool): Promise<void> {
  const { rowCount } = await admin.query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`)
  if (rowCount === 0)
    throw new TenantScopeError('INVALID_CONFIG', 'citus: true needs the citus extension in the database (a Citus coordinator)')
}

// Only on the workers, which only the coordinator reaches: applications
// connect to the coordinator, where the role stays NOLOGIN. A worker holds
// Citus metadata and propagates role DDL to the other nodes (here that ended
// in a distributed deadlock with this very call): the ALTER ROLE goes with
// DDL propagation off, so it stays on the worker that runs it.
async function loginOnWorkers(admin: pg.Pool, role: string): Promise<void> {
  const { rows } = await admin.query<{ nodename: string; nodeport: number; success: boolean; result: string }>(
    `SELECT nodename, nodeport, success, result FROM run_command_on_workers($1)`,
    [`SET LOCAL citus.enable_ddl_propagation = off; ALTER ROLE ${role} LOGIN`],
  )
  const failed = rows.find((row) => !row.success)
  if (failed !== undefined) {
    throw new TenantScopeError(
      'INVALID_CONFIG',
      `Could not make ${role} LOGIN on worker ${failed.nodename}:${failed.nodeport}: ${failed.result}`,
    )
  }
}

async function applyOrUndo(admin: pg.Pool, entry: TenantEntry, migrations: readonly MigrationFile[], undo: () => Promise<void>) {
  if (migrations.length === 0) return
  const client = await admin.connect()
  let result
  try {
    const target = { kind: 'schema', tenantId: entry.tenantId, schema: entry.schema!, role: entry.role } as const
    result = await migrateTarget(client, target, migrations, false)
  } finally {
    client.release()
  }
  if (result.failure) {
    await undo()
    throw migrationFailed(result.failure)
  }
}

async function createDatabaseTenant(admin: pg.Pool, entry: TenantEntry, migrations: readonly MigrationFile[], options: PlacementOptions) {
  if (!isPlainName(entry.database)) {
    throw new TenantScopeError('INVALID_CONFIG', 'The database key must be a lower-case identifier: it names the database')
  }
  await admin.query(`CREATE DATABASE ${entry.database}`)
  if (migrations.length === 0) return
  if (options.connectionFor === undefined) {
    await admin.query(`DROP DATABASE ${entry.database}`)
    throw new TenantScopeError('INVALID_CONFIG', 'A database tenant with migrations needs connectionFor')
  }
  const config = await options.connectionFor(entry)
  const client = new pg.Client(typeof config === 'string' ? { connectionString: config } : config)
  let result
  try {
    await client.connect()
    result = await migrateTarget(client, { kind: 'database', tenantId: entry.tenantId, schema: 'public' }, migrations, false)
  } finally {
    await client.end().catch(() => undefined)
  }
  if (result.failure) {
    await admin.query(`DROP DATABASE ${entry.database} WITH (FORCE)`)
    throw migrationFailed(result.failure)
  }
}

function migrationFailed(failure: { migration: string; message: string }): TenantScopeError {
  return new TenantScopeError('MIGRATION_FAILED', `Migration ${failure.migration} failed on the new tenant: ${failure.message}`)
}

/** Every tenant in tenantscope.tenant_directory, by id. */
export async function listTenants(admin: pg.Pool): Promise<TenantEntry[]> {
  const { rows } = await admin.query(
    `SELECT tenant_id, strategy, schema_name, role_name, database_key, region, state FROM tenantscope.tenant_directory ORDER BY tenant_id`,
  )
  return rows.map(entryFromRow)
}

/**
 * Changes a tenant's state in tenantscope.tenant_directory; every router
 * listening for changes sees it at once (NOTIFY), the others within their TTL.
 * `read_only` while exporting, `moving` while switching it to another strategy,
 * `suspended` to stop serving it, `active` to serve it again.
 * @example await setTenantState(admin, tenantId, 'read_only')
 */
export async function setTenantState(admin: pg.Pool, tenantId: string, state: TenantState): Promise<TenantEntry> {
  if (!['active', 'read_only', 'moving', 'suspended'].includes(state)) {
    throw new TenantScopeError('INVALID_CONFIG', 'state must be active, read_only, moving or suspended')
  }
  const { rows } = await admin.query(
    `UPDATE tenantscope.tenant_directory SET state = $2, updated_at = now() WHERE tenant_id = $1
     RETURNING tenant_id, strategy, schema_name, role_name, database_key, region, state`,
    [tenantId, state],
  )
  if (rows[0] === undefined) throw new TenantScopeError('TENANT_UNKNOWN', 'The tenant has no directory entry')
  return entryFromRow(rows[0])
}

export interface DropTenantOptions {
  /** Each region's database: a schema tenant pinned to a region is dropped there. */
  regions?: Record<string, pg.Pool>
}

const ENTRY_COLUMNS = 'tenant_id, strategy, schema_name, role_name, database_key, region, state'

/**
 * Deprovisions a tenant: its directory entry first (every router stops
 * serving it, by NOTIFY), then its schema and role, or its database.
 * Returns the entry it removed, or undefined for an unknown tenant.
 */
export async function dropTenant(admin: pg.Pool, tenantId: string, options: DropTenantOptions = {}): Promise<TenantEntry | undefined> {
  const found = await admin.query(`SELECT ${ENTRY_COLUMNS} FROM tenantscope.tenant_directory WHERE tenant_id = $1`, [tenantId])
  if (found.rows[0] === undefined) return undefined
  const current = entryFromRow(found.rows[0])
  // Checked before anything is removed: a region's schema is dropped in that region only.
  const home = current.strategy === 'schema' && current.region !== undefined ? options.regions?.[current.region] : admin
  if (home === undefined) throw new TenantScopeError('INVALID_CONFIG', 'The tenant is pinned to a region without a pool in regions')
  const { rows } = await admin.query(`DELETE FROM tenantscope.tenant_directory WHERE tenant_id = $1 RETURNING ${ENTRY_COLUMNS}`, [tenantId])
  if (rows[0] === undefined) return undefined
  const entry = entryFromRow(rows[0])
  if (entry.strategy === 'schema') await dropSchemaTenant(home, entry)
  if (entry.strategy === 'database' && isPlainName(entry.database)) {
    await admin.query(`DROP DATABASE IF EXISTS ${entry.database} WITH (FORCE)`)
  }
  return entry
}

async function dropSchemaTenant(admin: pg.Pool, entry: TenantEntry): Promise<void> {
  if (!isPlainName(entry.schema) || !isPlainName(entry.role)) throw new TenantScopeError('INVALID_CONFIG', 'Invalid schema or role name')
  await admin.query(`DROP SCHEMA IF EXISTS ${entry.schema} CASCADE`)
  const { rowCount } = await admin.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [entry.role])
  if (rowCount !== 0) await admin.query(`DROP OWNED BY ${entry.role}; DROP ROLE ${entry.role}`)
}
