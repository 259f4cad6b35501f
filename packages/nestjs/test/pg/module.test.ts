import 'reflect-metadata'
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import {
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  Catch,
  Controller,
  type ExceptionFilter,
  type ExecutionContext,
  Get,
  HttpException,
  type INestApplication,
  Inject,
  Injectable,
  Module,
  type NestInterceptor,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { TenantPool, tryGetTenantId } from '@tenantscope/core'
import { TENANT_POOL, TenantScopeModule } from '@tenantscope/nestjs'
import { createTestDatabase, type TestDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { map } from 'rxjs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

// A resolver for the test only: the tenant from a header. In an app it comes from a verified
// principal (jwtTenant); the example app in examples/nestjs does that over real tokens.
const fromHeader = (request: IncomingMessage) => {
  const value = request.headers['x-test-tenant']
  if (value === 'explode') throw new Error('resolver bug')
  return typeof value === 'string' ? value : undefined
}

const seen: Record<string, string | undefined> = {}

@Injectable()
class RecordingGuard implements CanActivate {
  canActivate(): boolean {
    seen.guard = tryGetTenantId()
    return true
  }
}

@Injectable()
class RecordingInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler) {
    seen.interceptorBefore = tryGetTenantId()
    return next.handle().pipe(
      map((value: unknown) => {
        seen.interceptorAfter = tryGetTenantId()
        return value
      }),
    )
  }
}

@Controller()
class ProbeController {
  constructor(
    @Inject(TENANT_POOL) private readonly pool: TenantPool,
    @Inject(TenantPool) private readonly byClass: TenantPool,
  ) {}

  @Get('scoped')
  @UseGuards(RecordingGuard)
  @UseInterceptors(RecordingInterceptor)
  async scoped() {
    await new Promise((resolve) => setImmediate(resolve))
    const { rows } = await this.pool.query(`SELECT current_setting('app.current_tenant') AS tenant`)
    return { handler: tryGetTenantId(), database: rows[0].tenant, sameInstance: this.pool === this.byClass }
  }

  @Get('open')
  open() {
    return { handler: tryGetTenantId() ?? null }
  }
}

const filtered: unknown[] = []
@Catch(HttpException)
class RecordingFilter implements ExceptionFilter {
  catch(exception: HttpException, host: ArgumentsHost) {
    filtered.push(exception.getStatus())
    host.switchToHttp().getResponse().status(exception.getStatus()).json(exception.getResponse())
  }
}

const CONFIG = Symbol('config')
@Module({ providers: [{ provide: CONFIG, useValue: { tenantHeader: 'x-test-tenant' } }], exports: [CONFIG] })
class ConfigModule {}

describe('TenantScopeModule in a Nest application', () => {
  let db: TestDatabase
  let ownPool: pg.Pool
  let app: INestApplication
  let url: string
  const tenant = randomUUID()

  beforeAll(async () => {
    db = await createTestDatabase()
    ownPool = new pg.Pool({ connectionString: db.appUrl, max: 2 })
    @Module({
      imports: [
        TenantScopeModule.forRootAsync({
          imports: [ConfigModule],
          inject: [CONFIG],
          useFactory: (config: { tenantHeader: string }) => {
            expect(config.tenantHeader).toBe('x-test-tenant') // the factory gets its injected provider
            return { pool: ownPool, resolveTenant: fromHeader }
          },
          forRoutes: ['scoped'],
        }),
      ],
      controllers: [ProbeController],
    })
    class TestModule {}
    app = await NestFactory.create(TestModule, { logger: false })
    app.useGlobalFilters(new RecordingFilter())
    await app.listen(0, '127.0.0.1')
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1')
  })

  afterAll(async () => {
    await app?.close()
    if (ownPool && !ownPool.ending) await ownPool.end()
    await db?.drop()
  })

  test('the guard, the interceptor (before and after the handler), the handler and the database all see the request’s tenant', async () => {
    const response = await fetch(`${url}/scoped`, { headers: { 'x-test-tenant': tenant } })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ handler: tenant, database: tenant, sameInstance: true })
    expect(seen).toEqual({ guard: tenant, interceptorBefore: tenant, interceptorAfter: tenant })
  })

  test('routes outside forRoutes run without a tenant', async () => {
    const response = await fetch(`${url}/open`, { headers: { 'x-test-tenant': tenant } })
    expect(await response.json()).toEqual({ handler: null })
  })

  test('a refusal is an HttpException that goes through the app’s exception filters, with the shared JSON body', async () => {
    filtered.length = 0
    const missing = await fetch(`${url}/scoped`)
    expect(missing.status).toBe(401)
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect(await missing.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } })
    const malformed = await fetch(`${url}/scoped`, { headers: { 'x-test-tenant': 'not-a-uuid' } })
    expect(malformed.status).toBe(400)
    expect(await malformed.json()).toMatchObject({ error: { code: 'INVALID_TENANT_ID' } })
    expect(filtered).toEqual([401, 400])
  })

  test('a resolver that throws is a 500 from Nest, and the app keeps serving', async () => {
    expect((await fetch(`${url}/scoped`, { headers: { 'x-test-tenant': 'explode' } })).status).toBe(500)
    expect((await fetch(`${url}/scoped`, { headers: { 'x-test-tenant': tenant } })).status).toBe(200)
  })

  test('a pg.Pool the app passed in is the app’s to end: app.close() leaves it open', async () => {
    await app.close()
    expect(ownPool.ending).toBe(false)
    expect((await ownPool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
  })
})
