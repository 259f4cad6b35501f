import {
  type DynamicModule,
  Inject,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type OnApplicationShutdown,
  type Provider,
  RequestMethod,
} from '@nestjs/common'
import { createTenantPool, TenantPool } from '@tenantscope/core'
import pg from 'pg'
import type { TenantScopeModuleAsyncOptions, TenantScopeModuleOptions } from './options.js'
import { TenantScopeMiddleware } from './tenant-scope.middleware.js'
import { TENANT_POOL, TENANT_SCOPE_OPTIONS } from './tokens.js'

// Routes are needed synchronously in configure(), before async providers exist.
const ROUTES = Symbol.for('tenantscope:nestjs:routes')
interface Routes {
  forRoutes?: TenantScopeModuleOptions['forRoutes']
  exclude?: TenantScopeModuleOptions['exclude']
}

/** The pool the module built from a config, which it must end; a pool it was given is the caller's to end. */
interface PoolHolder {
  pool: TenantPool
  owned: boolean
}
const POOL_HOLDER = Symbol.for('tenantscope:nestjs:pool-holder')

function holdPool(options: TenantScopeModuleOptions): PoolHolder {
  if (options.pool instanceof TenantPool) return { pool: options.pool, owned: false }
  if (options.pool instanceof pg.Pool) return { pool: createTenantPool(options.pool, options.poolOptions), owned: false }
  return { pool: createTenantPool(options.pool, options.poolOptions), owned: true }
}

function sharedProviders(): Provider[] {
  return [
    { provide: POOL_HOLDER, useFactory: holdPool, inject: [TENANT_SCOPE_OPTIONS] },
    { provide: TENANT_POOL, useFactory: (holder: PoolHolder) => holder.pool, inject: [POOL_HOLDER] },
    { provide: TenantPool, useExisting: TENANT_POOL },
    TenantScopeMiddleware,
  ]
}

/**
 * Provides the `TenantPool` (inject it with `@Inject(TENANT_POOL)`, or by its
 * class with decorator metadata) and runs each request of the chosen routes
 * inside `withTenant`, with the tenant its `resolveTenant` finds, from a
 * verified principal (see `jwtTenant` in `@tenantscope/core/jwt`). Global:
 * import it once, in the root module.
 * @example
 * TenantScopeModule.forRoot({
 *   pool: { connectionString: process.env.DATABASE_URL },
 *   resolveTenant: jwtTenant({ secret: process.env.JWT_SECRET!, claim: 'tenant_id' }),
 *   exclude: ['health'],
 * })
 */
@Module({})
export class TenantScopeModule implements NestModule, OnApplicationShutdown {
  constructor(
    @Inject(ROUTES) private readonly routes: Routes,
    @Inject(POOL_HOLDER) private readonly holder: PoolHolder,
  ) {}

  static forRoot<Req extends import('node:http').IncomingMessage>(options: TenantScopeModuleOptions<Req>): DynamicModule {
    return {
      module: TenantScopeModule,
      global: true,
      providers: [
        { provide: TENANT_SCOPE_OPTIONS, useValue: options },
        { provide: ROUTES, useValue: { forRoutes: options.forRoutes, exclude: options.exclude } },
        ...sharedProviders(),
      ],
      exports: [TENANT_POOL, TenantPool],
    }
  }

  static forRootAsync(options: TenantScopeModuleAsyncOptions): DynamicModule {
    return {
      module: TenantScopeModule,
      global: true,
      imports: (options.imports ?? []) as DynamicModule['imports'],
      providers: [
        { provide: TENANT_SCOPE_OPTIONS, useFactory: options.useFactory, inject: (options.inject ?? []) as never[] },
        { provide: ROUTES, useValue: { forRoutes: options.forRoutes, exclude: options.exclude } },
        ...sharedProviders(),
      ],
      exports: [TENANT_POOL, TenantPool],
    }
  }

  configure(consumer: MiddlewareConsumer): void {
    const applied = consumer.apply(TenantScopeMiddleware)
    const routes = this.routes.forRoutes ?? [{ path: '*', method: RequestMethod.ALL }]
    const excluded = this.routes.exclude ?? []
    ;(excluded.length > 0 ? applied.exclude(...excluded) : applied).forRoutes(...routes)
  }

  async onApplicationShutdown(): Promise<void> {
    // Nest runs shutdown hooks again on a second app.close(); pg refuses a second end().
    if (this.holder.owned && !this.holder.pool.unscopedPool.ending) await this.holder.pool.end()
  }
}
