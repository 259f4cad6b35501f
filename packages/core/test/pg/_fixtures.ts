import { randomUUID } from 'node:crypto'
import { createTestDatabase, type TestDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll } from 'vitest'

export interface Fixture {
  db: TestDatabase
  admin: pg.Pool
  tenantA: string
  tenantB: string
}

/** A fresh database with two tenants, dropped after the file's tests. */
export function useFixture(): Fixture {
  const fixture = { tenantA: randomUUID(), tenantB: randomUUID() } as Fixture
  beforeAll(async () => {
    fixture.db = await createTestDatabase()
    fixture.admin = new pg.Pool({ connectionString: fixture.db.adminUrl, max: 2 })
    await fixture.admin.query(`INSERT INTO tenants (id, name) VALUES ($1, 'A'), ($2, 'B')`, [fixture.tenantA, fixture.tenantB])
  })
  afterAll(async () => {
    await fixture.admin?.end()
    await fixture.db?.drop()
  })
  return fixture
}
