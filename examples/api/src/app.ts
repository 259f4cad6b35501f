import { getTenantId } from '@tenantscope/core'
import { tenantMiddleware } from '@tenantscope/core/express'
import { jwtTenant } from '@tenantscope/core/jwt'
import type { TenantRouter } from '@tenantscope/router'
import express, { type Express } from 'express'
import type PgBoss from 'pg-boss'
import type { Database } from './db.js'
import { errorHandler } from './http-errors.js'
import { invoiceRoutes } from './routes/invoices.js'
import { projectRoutes } from './routes/projects.js'
import { reportRoutes } from './routes/reports.js'
import { userRoutes } from './routes/users.js'
import { tenants } from './schema.js'

export interface AppOptions {
  /** A tenant-scoped Drizzle instance (see createDatabase). */
  db: Database
  /** The router under `db`: GET /me says where the caller's tenant lives. */
  router?: TenantRouter
  /** HS256 secret the tokens are signed with (at least 32 bytes). */
  jwtSecret: string
  /** Required `iss` of the tokens. */
  issuer?: string
  /** pg-boss, for /reports; without it the routes are not mounted. */
  boss?: PgBoss
  log?: (error: unknown) => void
}

export function createApp(options: AppOptions): Express {
  const { db } = options
  const app = express()
  app.disable('x-powered-by')
  app.use(express.json({ limit: '100kb' }))

  app.get('/health', (_req, res) => {
    res.json({ ok: true })
  })

  // Everything below runs for the tenant of a verified token: its tenant_id
  // claim, or, for a user of several tenants (a `tenants` claim), the one the
  // x-tenant-id header picks among those the token grants. A header naming a
  // tenant the token does not grant is a 403: the header only chooses, the
  // token decides.
  app.use(
    tenantMiddleware<express.Request>({
      resolveTenant: jwtTenant<express.Request>({
        secret: options.jwtSecret,
        ...(options.issuer ? { issuer: options.issuer } : {}),
        tenantsClaim: 'tenants',
        requestedTenant: (req) => req.get('x-tenant-id'),
        settings: (claims) => (typeof claims.sub === 'string' ? { 'app.user_id': claims.sub } : undefined),
      }),
    }),
  )

  app.get('/me', async (_req, res) => {
    // RLS on tenants shows a tenant its own row only (in a tenant schema or
    // database, the only row there is).
    const [tenant] = await db.select().from(tenants)
    // Where the tenant lives, for the curious: no route below depends on it.
    const entry = await options.router?.currentEntry()
    res.json({
      tenantId: getTenantId(),
      tenant: tenant ?? null,
      placement: entry ? { strategy: entry.strategy, state: entry.state } : null,
    })
  })
  app.use('/projects', projectRoutes(db))
  app.use('/invoices', invoiceRoutes(db))
  app.use('/users', userRoutes(db))
  if (options.boss) app.use('/reports', reportRoutes(options.boss))

  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'NOT_FOUND', message: 'No such route' } })
  })
  app.use(errorHandler(options.log ?? ((error) => console.error(error))))
  return app
}
