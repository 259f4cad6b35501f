export type { TenantScopeModuleAsyncOptions, TenantScopeModuleOptions } from './options.js'
export { TenantScopeMiddleware } from './tenant-scope.middleware.js'
export { TenantScopeModule } from './tenant-scope.module.js'
export { TENANT_POOL } from './tokens.js'
