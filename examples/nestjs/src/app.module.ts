import { type DynamicModule, Module } from '@nestjs/common'
import { jwtTenant } from '@tenantscope/core/jwt'
import { TenantScopeModule } from '@tenantscope/nestjs'
import { HealthController } from './health.controller.js'
import { ProjectsController } from './projects.controller.js'

export interface AppConfig {
  /** The application role: not superuser, not BYPASSRLS, owns no tenant table. */
  databaseUrl: string
  /** HS256 secret the tokens are signed with; the tenant is the token's `tenant_id` claim. */
  jwtSecret: string
}

@Module({})
export class AppModule {
  static with(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        TenantScopeModule.forRoot({
          pool: { connectionString: config.databaseUrl, max: 10 },
          // The tenant comes from a verified token, never from a header a caller can set.
          resolveTenant: jwtTenant({ secret: config.jwtSecret }),
          exclude: ['health'],
        }),
      ],
      controllers: [ProjectsController, HealthController],
    }
  }
}
