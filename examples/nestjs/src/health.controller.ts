import { Controller, Get, Inject } from '@nestjs/common'
import { type TenantPool, TenantScopeError } from '@tenantscope/core'
import { TENANT_POOL } from '@tenantscope/nestjs'

// Excluded from the tenant middleware: no token needed, and no tenant either.
@Controller('health')
export class HealthController {
  constructor(@Inject(TENANT_POOL) private readonly pool: TenantPool) {}

  @Get()
  async health(): Promise<{ ok: true; scoped: boolean }> {
    // Outside withTenant the tenant pool refuses before sending anything: proof that this route has no tenant.
    const scoped = await this.pool.query('SELECT 1').then(
      () => true,
      (error: unknown) => {
        if (TenantScopeError.is(error, 'TENANT_CONTEXT_MISSING')) return false
        throw error
      },
    )
    return { ok: true, scoped }
  }
}
