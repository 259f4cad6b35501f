import { randomBytes } from 'node:crypto'
import { inject } from 'vitest'
import type { HarnessInfo } from './harness-info.js'
import { APP_ROLE, MAINTENANCE_ROLE } from './roles.js'
import { withDatabase } from './urls.js'
import { withClient } from './with-client.js'

export interface TestDatabase {
  readonly name: string
  /** Superuser: schema changes and fixtures only, never for the assertions that matter. */
  readonly adminUrl: string
  /** Not superuser, not BYPASSRLS, owns nothing: what RLS tests connect as. */
  readonly appUrl: string
  /** BYPASSRLS: the separate system pool for cross-tenant work. */
  readonly maintenanceUrl: string
  drop(): Promise<void>
}

/**
 * A fresh database copied from the template (tenantscope migrations and the
 * example schema applied), so test files never see each other's rows.
 * `info` defaults to the run's PostgreSQL; the version matrix passes another.
 */
export async function createTestDatabase(info: HarnessInfo = inject('tenantscope')): Promise<TestDatabase> {
  const name = `${info.prefix}${randomBytes(4).toString('hex')}`
  await withClient(info.adminUrl, async (admin) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${info.template}`)
        return
      } catch (error) {
        // 55006: another test is copying the template at this very moment.
        if ((error as { code?: string }).code !== '55006' || attempt > 50) throw error
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  })
  return {
    name,
    adminUrl: withDatabase(info.adminUrl, name),
    appUrl: withDatabase(info.adminUrl, name, APP_ROLE),
    maintenanceUrl: withDatabase(info.adminUrl, name, MAINTENANCE_ROLE),
    async drop() {
      await withClient(info.adminUrl, async (admin) => {
        // pg.Pool#end() resolves before its sockets close: give them a moment,
        // or FORCE kills a closing connection and its client throws 57P01.
        for (let waited = 0; waited < 5_000; waited += 50) {
          const { rows } = await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1`, [name])
          if (rows[0].n === 0) break
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      })
    },
  }
}
