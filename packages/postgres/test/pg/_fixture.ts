import { randomUUID } from 'node:crypto'
import { createTestDatabase, type TestDatabase, withClient } from '@tenantscope/test-harness'
import { afterAll, beforeAll } from 'vitest'

export interface Fixture {
  db: TestDatabase
  tenantA: string
  tenantB: string
}

/** A fresh database with two tenants and one project each, dropped after the file. */
export function useFixture(): Fixture {
  const fixture = { tenantA: randomUUID(), tenantB: randomUUID() } as Fixture
  beforeAll(async () => {
    fixture.db = await createTestDatabase()
    await withClient(fixture.db.adminUrl, async (admin) => {
      for (const [id, name] of [
        [fixture.tenantA, 'a'],
        [fixture.tenantB, 'b'],
      ] as const) {
        await admin.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [id, name])
        await admin.query('INSERT INTO projects (tenant_id, name) VALUES ($1, $2)', [id, `${name}1`])
      }
    })
  })
  afterAll(async () => {
    await fixture.db?.drop()
  })
  return fixture
}
