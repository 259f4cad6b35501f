/**
 * Injection token of the module's `TenantPool`. The `TenantPool` class itself
 * is a token too (for `constructor(private pool: TenantPool)` under
 * `emitDecoratorMetadata`); this one works without decorator metadata, e.g.
 * under esbuild or Vitest: `constructor(@Inject(TENANT_POOL) pool: TenantPool)`.
 * Symbol.for: the same token across two installed copies of this package.
 */
export const TENANT_POOL = Symbol.for('tenantscope:nestjs:TenantPool')

/** @internal The options `TenantScopeModule.forRoot` was given. */
export const TENANT_SCOPE_OPTIONS = Symbol.for('tenantscope:nestjs:options')
