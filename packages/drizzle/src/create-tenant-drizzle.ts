import { createTenantPool, type TenantPool, type TenantPoolOptions } from '@tenantscope/core'
import type { DrizzleConfig } from 'drizzle-orm'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import type pg from 'pg'
import { refuseQueryCache, unwrapRefusalsOf } from './_refusals.js'
import { routedCopy } from './tenant-drizzle.js'

/**
 * A new tenant-scoped Drizzle instance over a new TenantPool: for new code,
 * where there is no `drizzle(...)` instance to wrap yet. Same guarantees as
 * `tenantDrizzle`.
 *
 * `poolOrConfig` is a pg.Pool or a pg.PoolConfig, as for `createTenantPool`;
 * `config` is Drizzle's own config (schema, casing, logger);
 * `options` are the TenantPool's (setting, parseTenantId, setter, citus); with
 * `citus: true` queries are routed to the tenant's shard, as with `tenantDrizzle`.
 * @example
 * const db = createTenantDrizzle({ connectionString: process.env.DATABASE_URL }, { schema })
 * await withTenant(tenantId, () => db.select().from(schema.projects))
 */
export function createTenantDrizzle<TSchema extends Record<string, unknown> = Record<string, never>>(
  poolOrConfig?: pg.Pool | pg.PoolConfig,
  config?: DrizzleConfig<TSchema>,
  options?: TenantPoolOptions,
): NodePgDatabase<TSchema> & { $client: TenantPool } {
  refuseQueryCache(config?.cache)
  const pool = createTenantPool(poolOrConfig, options)
  // TenantPool is a pg.Pool subclass at run time; its narrower query()
  // overloads keep TypeScript from seeing it as one.
  const client = pool as unknown as pg.Pool
  const db = drizzle({ ...config, client }) as unknown as NodePgDatabase<TSchema> & { $client: TenantPool }
  unwrapRefusalsOf((db as unknown as { session: object }).session)
  // Citus mode: queries on tables with a tenant_id column are routed to the tenant's shard.
  return options?.citus === true ? routedCopy(db) : db
}
