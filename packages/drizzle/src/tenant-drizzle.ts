import { createTenantPool, TenantPool, type TenantPoolOptions, TenantScopeError } from '@tenantscope/core'
import { createTenantSql, isTenantSql } from '@tenantscope/postgres'
import type pg from 'pg'
import {
  type DrizzleDatabaseLike,
  isNodePgDatabase,
  isNodePgSession,
  isPostgresJsDatabase,
  isPostgresJsSession,
} from './_drizzle-internals.js'
import { refuseQueryCache, unwrapRefusalsOf } from './_refusals.js'
import { routingDialect } from './citus-routing.js'

/** Options of `tenantDrizzle`: those of `createTenantPool`, and the tenant column for Citus routing. */
export interface TenantDrizzleOptions extends TenantPoolOptions {
  /**
   * With `citus: true`, SELECT, UPDATE and DELETE on a table that has this
   * column get `<column> = <current tenant>` added to their WHERE, so that
   * Citus routes them to the tenant's one shard instead of every shard
   * (RLS alone fans out). See docs/citus.md.
   * @default 'tenant_id'
   * @example tenantDrizzle(drizzle(pool, { schema }), { citus: true })
   */
  tenantColumn?: string
}

/**
 * Returns a Drizzle instance of the same type as `db` whose every query runs
 * for the current tenant: builders, relational queries (`db.query.*`),
 * `db.execute`, `db.$count`, and `db.transaction` (nested ones are
 * savepoints of the same tenant-scoped transaction).
 *
 * It keeps `db`'s schema or relations, casing, logger and dialect, and
 * swaps its pool for a TenantPool over the same pg.Pool, so:
 * - outside `withTenant` every query throws `TENANT_CONTEXT_MISSING`
 *   before a connection is taken;
 * - a single statement costs one round trip (the setting rides in the same
 *   pipeline) and a transaction carries the setting with its BEGIN;
 * - nothing stays on a connection once a statement or transaction ends.
 *
 * `db` itself is left as it was (unscoped): use only the returned instance
 * in the app. The result's `$client` is the TenantPool (a pg.Pool): raw
 * `$client.query` is tenant-scoped too.
 *
 * Throws `INVALID_CONFIG` when `db` is not a node-postgres Drizzle instance
 * over a pg.Pool, or when it has a query cache (Drizzle's cache keys on the
 * SQL text and parameters, not on the tenant, so one tenant's cached rows
 * would be served to another).
 * @example
 * const db = tenantDrizzle(drizzle(pool, { schema }))
 * await withTenant(session.tenantId, () => db.query.projects.findMany())
 */
export function tenantDrizzle<TDatabase extends object>(db: TDatabase, options?: TenantDrizzleOptions): TDatabase {
  const source = db as unknown as DrizzleDatabaseLike
  if (isPostgresJsSession(source?.session)) return tenantPostgresJsDrizzle(source, options) as unknown as TDatabase
  if (!isNodePgSession(source?.session)) {
    throw new TenantScopeError(
      'INVALID_CONFIG',
      'tenantDrizzle takes a Drizzle instance made by drizzle() from drizzle-orm/node-postgres or drizzle-orm/postgres-js',
    )
  }
  refuseQueryCache(source.session.options?.cache)
  if (!isNodePgDatabase(source) || '$primary' in source || '$replicas' in source) {
    throw new TenantScopeError(
      'INVALID_CONFIG',
      'tenantDrizzle takes the instance drizzle() returns; for replicas, wrap each instance first: withReplicas(tenantDrizzle(primary), [tenantDrizzle(replica)])',
    )
  }

  const client = source.$client
  if (client instanceof TenantPool) {
    if (options !== undefined) {
      throw new TenantScopeError(
        'INVALID_CONFIG',
        'This Drizzle instance already runs over a TenantPool; pass options to createTenantPool instead',
      )
    }
    // Already scoped (e.g. drizzle({ client: createTenantPool(pool) })): a
    // copy over the same TenantPool, so that refusals come out unwrapped too.
    return rebuildOver(source, client as unknown as pg.Pool) as unknown as TDatabase
  }
  if (!isPgPool(client)) {
    throw new TenantScopeError(
      'INVALID_CONFIG',
      'tenantDrizzle needs a Drizzle instance over a pg.Pool: a single pg.Client or PoolClient cannot give each tenant its own transaction',
    )
  }
  const { tenantColumn = 'tenant_id', ...poolOptions } = options ?? {}
  const pool = createTenantPool(client, poolOptions) as unknown as pg.Pool
  return rebuildOver(source, pool, poolOptions.citus === true ? tenantColumn : undefined) as unknown as TDatabase
}

/**
 * @internal createTenantDrizzle in Citus mode: a copy of `db` over the same
 * TenantPool whose queries are routed (see citus-routing.ts).
 */
export function routedCopy<TDatabase extends object>(db: TDatabase, tenantColumn = 'tenant_id'): TDatabase {
  const source = db as unknown as DrizzleDatabaseLike
  return rebuildOver(source, source.$client as pg.Pool, tenantColumn) as unknown as TDatabase
}

/**
 * drizzle-orm/postgres-js: the copy runs over `createTenantSql(client)` from
 * @tenantscope/postgres (or over the client itself when it already is one).
 * `options` are createTenantSql's: setting, parseTenantId, setter.
 */
function tenantPostgresJsDrizzle(source: DrizzleDatabaseLike, options: TenantDrizzleOptions | undefined): DrizzleDatabaseLike {
  refuseQueryCache(source.session.options?.cache)
  if (!isPostgresJsDatabase(source) || '$primary' in source || '$replicas' in source) {
    throw new TenantScopeError(
      'INVALID_CONFIG',
      'tenantDrizzle takes the instance drizzle() returns; for replicas, wrap each instance first: withReplicas(tenantDrizzle(primary), [tenantDrizzle(replica)])',
    )
  }
  const client = source.$client
  if (isTenantSql(client)) {
    if (options !== undefined) {
      throw new TenantScopeError(
        'INVALID_CONFIG',
        'This Drizzle instance already runs over createTenantSql(); pass options to createTenantSql instead',
      )
    }
    return rebuildOver(source, client as pg.Pool)
  }
  const { setting, parseTenantId, setter } = options ?? {}
  // createTenantSql refuses anything but a postgres.js sql (INVALID_CONFIG).
  const scoped = createTenantSql(client as Parameters<typeof createTenantSql>[0], { setting, parseTenantId, setter })
  return rebuildOver(source, scoped as unknown as pg.Pool)
}

/**
 * A copy of `db` built from its own classes, over `pool`. Drizzle's
 * query builders and relational queries capture the session when they are
 * made, so the copy gets a new session rather than a patched one.
 */
function rebuildOver(db: DrizzleDatabaseLike, pool: pg.Pool, routeByColumn?: string): DrizzleDatabaseLike {
  const { session } = db
  // 0.x keeps the relational schema as `schema`, 1.0 its relations as `relations`.
  const schema = 'relations' in session && session.relations !== undefined ? session.relations : session.schema
  const Session = session.constructor
  const Database = db.constructor
  // Citus mode: a copy of the dialect that adds the tenant condition (citus-routing.ts).
  const dialect = routeByColumn === undefined ? session.dialect : routingDialect(session.dialect as object, routeByColumn)
  const scopedSession = new Session(pool, dialect, schema, session.options ?? {})
  unwrapRefusalsOf(scopedSession)
  const scoped = new Database(routeByColumn === undefined ? db.dialect : dialect, scopedSession, schema)
  scoped.$client = pool
  // drizzle() sets $cache after construction; keep what the original had.
  scoped.$cache = db.$cache
  return scoped
}

// A pool hands out connections; a pg.Client (which also has connect/query/end)
// does not, and must not be wrapped.
function isPgPool(client: unknown): client is pg.Pool {
  const candidate = client as Partial<pg.Pool> | null | undefined
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.connect === 'function' &&
    typeof candidate.query === 'function' &&
    typeof candidate.end === 'function' &&
    typeof candidate.totalCount === 'number' &&
    typeof candidate.idleCount === 'number'
  )
}
