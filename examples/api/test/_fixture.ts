import { randomUUID } from 'node:crypto'
import { dropExampleTenants, type ExampleTenant, type SetupResult, setupExample } from '@tenantscope/example-api'
import type { TenantEntry } from '@tenantscope/router'
import { APP_ROLE, createTestDatabase, type TestDatabase, withDatabase } from '@tenantscope/test-harness'
import { SignJWT } from 'jose'
import pg from 'pg'

export const JWT_SECRET = 'example-api-test-secret-of-at-least-32-bytes'

export function token(claims: Record<string, unknown>, secret = JWT_SECRET): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(new TextEncoder().encode(secret))
}

export interface SeededTenant extends ExampleTenant {
  projects: string[]
  entry: TenantEntry
  /** The owner, where this tenant lives (its database, search_path on its schema): fixtures and checks only. */
  admin: pg.Client
}

export interface Seeded {
  db: TestDatabase
  /** The owner on the primary database. */
  admin: pg.Client
  tenants: SeededTenant[]
  setup: SetupResult
  close(): Promise<void>
}

export const KINDS: readonly Omit<ExampleTenant, 'id'>[] = [
  { name: 'Acme', kind: 'pool', key: 'acme' },
  { name: 'Umbrella', kind: 'pool', key: 'umbrella' },
  { name: 'Globex', kind: 'schema', key: 'globex' },
  { name: 'Initech', kind: 'database', key: 'initech' },
]

const PROJECTS: Record<string, string[]> = {
  Acme: ['Acme Rocket', 'Acme Anvil'],
  Umbrella: ['Umbrella Hive'],
  Globex: ['Globex Hammock'],
  Initech: ['Initech TPS', 'Initech Stapler'],
}

/**
 * A fresh database provisioned by the example's setup, as the API's users
 * would run it: two pool tenants, one schema tenant, one database tenant;
 * each seeded with projects and invoices by the owner, where it lives.
 */
export async function seedDatabase(): Promise<Seeded> {
  const db = await createTestDatabase()
  const specs = KINDS.map((kind) => ({ ...kind, id: randomUUID() }))
  const setup = await setupExample({ adminUrl: db.adminUrl, appRole: APP_ROLE.name, tenants: specs })
  const admin = new pg.Client({ connectionString: db.adminUrl })
  await admin.connect()
  const tenants: SeededTenant[] = []
  try {
    for (const spec of specs) {
      const entry = setup.tenants.find((t) => t.tenantId === spec.id)!
      const place = new pg.Client({
        connectionString: entry.database ? withDatabase(db.adminUrl, entry.database) : db.adminUrl,
        ...(entry.schema ? { options: `-c search_path=${entry.schema}` } : {}),
      })
      await place.connect()
      tenants.push({ ...spec, projects: PROJECTS[spec.name]!, entry, admin: place })
      for (const name of PROJECTS[spec.name]!) {
        const { rows } = await place.query('INSERT INTO projects (tenant_id, name) VALUES ($1, $2) RETURNING id', [spec.id, name])
        await place.query(
          `INSERT INTO invoices (tenant_id, project_id, amount_cents, status) VALUES ($1, $2, 10000, 'paid'), ($1, $2, 2500, 'sent')`,
          [spec.id, rows[0].id],
        )
      }
    }
  } catch (error) {
    await Promise.all([admin, ...tenants.map((t) => t.admin)].map((client) => client.end()))
    await dropExampleTenants(
      db.adminUrl,
      specs.map((s) => s.id),
    ).catch(() => undefined)
    await db.drop()
    throw error
  }
  return {
    db,
    admin,
    tenants,
    setup,
    async close() {
      await Promise.all([admin, ...tenants.map((t) => t.admin)].map((client) => client.end()))
      // The tenant databases and roles are not inside the test database.
      await dropExampleTenants(
        db.adminUrl,
        specs.map((s) => s.id),
      )
      // drop() waits for the API's closing connections before it forces.
      await db.drop()
    },
  }
}
