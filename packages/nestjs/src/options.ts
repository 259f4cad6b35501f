import type { IncomingMessage } from 'node:http'
import type { MiddlewareConsumer } from '@nestjs/common'
import type { TenantPool, TenantPoolOptions } from '@tenantscope/core'
import type { TenantRequestOptions } from '@tenantscope/core/http'

type MiddlewareConfigProxy = ReturnType<MiddlewareConsumer['apply']>

import type pg from 'pg'

export interface TenantScopeModuleOptions<Req extends IncomingMessage = IncomingMessage> extends TenantRequestOptions<Req> {
  /**
   * The pool to scope: a `pg.PoolConfig` (the module builds the pool and ends
   * it on application shutdown), a `pg.Pool` or a `TenantPool` you own and end.
   * Connect as the application role: not superuser, not BYPASSRLS, owning no tenant table.
   * @example pool: { connectionString: process.env.DATABASE_URL, max: 10 }
   */
  pool: pg.PoolConfig | pg.Pool | TenantPool
  /** Options for `createTenantPool` (setting name, `parseTenantId`, setter) when `pool` is not a TenantPool yet. */
  poolOptions?: TenantPoolOptions
  /**
   * Routes whose requests run inside `withTenant` (Nest's `forRoutes` arguments).
   * @default every route: [{ path: '*', method: RequestMethod.ALL }]
   */
  forRoutes?: Parameters<MiddlewareConfigProxy['forRoutes']>
  /**
   * Routes left without a tenant (health checks, login, webhooks). A query
   * on the tenant pool from them is refused with TENANT_CONTEXT_MISSING.
   * @example exclude: ['health', { path: 'auth/login', method: RequestMethod.POST }]
   */
  exclude?: Parameters<MiddlewareConfigProxy['exclude']>
}

export interface TenantScopeModuleAsyncOptions {
  imports?: unknown[]
  inject?: unknown[]
  /** Builds the options from injected providers (e.g. `ConfigService`). */
  useFactory: (...args: any[]) => TenantScopeModuleOptions<any> | Promise<TenantScopeModuleOptions<any>>
  /**
   * Routes cannot come from the factory: Nest configures middleware before
   * asynchronous providers resolve.
   */
  forRoutes?: TenantScopeModuleOptions['forRoutes']
  exclude?: TenantScopeModuleOptions['exclude']
}
