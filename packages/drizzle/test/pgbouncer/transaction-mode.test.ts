import { randomUUID } from 'node:crypto'
import { withTenant } from '@tenantscope/core'
import { tenantDrizzle } from '@tenantscope/drizzle'
import { createTestDatabase, type PgBouncer, startPgBouncer, type TestDatabase, withClient } from '@tenantscope/test-harness'
import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

const TENANTS = Array.from({ length: 12 }, () => randomUUID())

// The Drizzle adapter through a real PgBouncer in transaction mode (core's
// own pool is tested there in core:pgbouncer): two server connections for
// many clients, so transactions of different tenants share them.
describe('Drizzle through PgBouncer in transaction mode', () => {
  let db: TestDatabase
  let bouncer: PgBouncer
  const pools: pg.Pool[] = []
  const newPool = (url: string, max = 10) => {
    const pool = new pg.Pool({ connectionString: url, max })
    // Idle connections die when PgBouncer stops at the end.
    pool.on('error', () => undefined)
    pools.push(pool)
    return pool
  }

  beforeAll(async () => {
    db = await createTestDatabase()
    await withClient(db.adminUrl, async (admin) => {
      for (const [index, id] of TENANTS.entries()) {
        await admin.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [id, `tenant ${index}`])
      }
    })
    bouncer = await startPgBouncer(db.adminUrl, { poolSize: 2 })
  })

  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)))
    await bouncer?.stop()
    await db?.drop()
  })

  // What an unscoped client sees on a server connection: no tenant, no rows.
  const leftover = (through: PgBouncer) =>
    withClient(through.url(db.appUrl), async (client) => {
      const visible = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM projects')
      return { visible: visible.rows[0]!.n }
    })

  test('Drizzle: queries and transactions through PgBouncer stay in their tenant and leave nothing', async () => {
    const db2 = tenantDrizzle(drizzle(newPool(bouncer.url(db.appUrl), 6)))
    await Promise.all(
      TENANTS.slice(0, 12).flatMap((tenant, index) =>
        [0, 1, 2].map((round) =>
          withTenant(tenant, async () => {
            await db2.transaction(async (tx) => {
              await tx.execute(sql`INSERT INTO projects (name) VALUES (${`drizzle ${index}/${round}`})`)
              const { rows } = await tx.execute<{ tenant_id: string }>(sql`SELECT DISTINCT tenant_id FROM projects`)
              expect(rows).toEqual([{ tenant_id: tenant }])
            })
            await expect(
              db2.transaction(async (tx) => {
                await tx.execute(sql`INSERT INTO projects (name) VALUES ('drizzle rolled back')`)
                tx.rollback()
              }),
            ).rejects.toThrow()
            const { rows } = await db2.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM projects WHERE name LIKE 'drizzle %'`)
            expect(rows[0]!.n).toBeGreaterThanOrEqual(1)
          }),
        ),
      ),
    )
    const counts = await withClient(db.adminUrl, (admin) =>
      admin.query<{ n: number; rolled: number }>(
        `SELECT count(*) FILTER (WHERE name LIKE 'drizzle %/%')::int AS n, count(*) FILTER (WHERE name = 'drizzle rolled back')::int AS rolled FROM projects`,
      ),
    )
    expect(counts.rows[0]).toEqual({ n: 36, rolled: 0 })
    expect(await leftover(bouncer)).toMatchObject({ visible: 0 })
  })
})
