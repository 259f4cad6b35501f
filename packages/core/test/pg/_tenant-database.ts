import { randomUUID } from 'node:crypto'
import { createTestDatabase, type TestDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll } from 'vitest'

export interface TenantDatabase {
  db: TestDatabase
  /** Superuser client for fixtures only. */
  admin: pg.Client
  tenantA: string
  tenantB: string
}

/**
 * A fresh database with two tenants, dropped after the file's tests. The
 * admin is one pg.Client, whose end() waits for the server to close it.
 */
export function useTenantDatabase(): TenantDatabase {
  const fixture = { tenantA: randomUUID(), tenantB: randomUUID() } as TenantDatabase
  beforeAll(async () => {
    fixture.db = await createTestDatabase()
    fixture.admin = new pg.Client({ connectionString: fixture.db.adminUrl })
    await fixture.admin.connect()
    await fixture.admin.query(`INSERT INTO tenants (id, name) VALUES ($1, 'A'), ($2, 'B')`, [fixture.tenantA, fixture.tenantB])
  })
  afterAll(async () => {
    // pg.Pool#end() resolves before its connections have closed: wait for
    // them, so that DROP ... WITH (FORCE) terminates no closing connection.
    for (let i = 0; i < 50 && fixture.admin; i++) {
      const { rows } = await fixture.admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')
      if (rows[0].n === 0) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await fixture.admin?.end()
    await fixture.db?.drop()
  })
  return fixture
}
