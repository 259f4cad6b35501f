import { randomUUID } from 'node:crypto'
import { createTestDatabase, type TestDatabase } from '@tenantscope/test-harness'
import { SignJWT } from 'jose'
import pg from 'pg'

export const JWT_SECRET = 'example-api-test-secret-of-at-least-32-bytes'

export function token(claims: Record<string, unknown>, secret = JWT_SECRET): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(new TextEncoder().encode(secret))
}

export interface Seeded {
  db: TestDatabase
  admin: pg.Client
  tenants: { id: string; name: string; projects: string[] }[]
  close(): Promise<void>
}

/** A fresh database with tenants Acme and Globex, their projects and invoices, seeded as the admin. */
export async function seedDatabase(): Promise<Seeded> {
  const db = await createTestDatabase()
  const admin = new pg.Client({ connectionString: db.adminUrl })
  await admin.connect()
  const tenants = [
    { id: randomUUID(), name: 'Acme', projects: ['Acme Rocket', 'Acme Anvil'] },
    { id: randomUUID(), name: 'Globex', projects: ['Globex Hammock'] },
  ]
  for (const tenant of tenants) {
    await admin.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [tenant.id, tenant.name])
    for (const name of tenant.projects) {
      const { rows } = await admin.query('INSERT INTO projects (tenant_id, name) VALUES ($1, $2) RETURNING id', [tenant.id, name])
      await admin.query(
        `INSERT INTO invoices (tenant_id, project_id, amount_cents, status) VALUES ($1, $2, 10000, 'paid'), ($1, $2, 2500, 'sent')`,
        [tenant.id, rows[0].id],
      )
    }
  }
  return {
    db,
    admin,
    tenants,
    async close() {
      // drop() waits for the API's closing connections before it forces.
      await admin.end()
      await db.drop()
    },
  }
}
