export { TenantScopeModule } from './tenant-scope.module.js'
export { TenantScopeMiddleware } from './tenant-scope.middleware.js'
export { TENANT_POOL } from './tokens.js'
export type { TenantScopeModuleOptions, TenantScopeModuleAsyncOptions } from './options.js'
