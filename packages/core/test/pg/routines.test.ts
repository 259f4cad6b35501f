// A procedure (CALL) or DO block may COMMIT itself when it runs outside a
// transaction block, and go on in a new transaction that has no setter. App
// SQL has left a session-level tenant (B) on the only connection, so that
// rest would see B. Outside a transaction a CALL or DO therefore runs in a
// transaction block of its own (BEGIN, setter, statement, COMMIT, one round
// trip), where PostgreSQL refuses the routine's COMMIT (2D000).
import { createTenantPool, type TenantPool, withTenant } from '@tenantscope/core'
import { startWireCounter, type WireCounter } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { useFixture } from './_fixtures.js'

const SEEN = `current_setting('app.current_tenant', true)`

describe('CALL and DO run with the setter from start to end', () => {
  const f = useFixture()
  let counter: WireCounter
  let raw: pg.Pool
  let pool: TenantPool

  beforeAll(async () => {
    await f.admin.query(`
      CREATE PROCEDURE commit_midway(INOUT before text DEFAULT NULL, INOUT after text DEFAULT NULL) LANGUAGE plpgsql AS $$
      BEGIN before := ${SEEN}; COMMIT; after := ${SEEN}; END $$;
      CREATE PROCEDURE no_commit(INOUT seen text DEFAULT NULL) LANGUAGE plpgsql AS $$
      BEGIN seen := ${SEEN}; END $$;
      CREATE TABLE routine_log (seen text);
      GRANT INSERT, SELECT ON routine_log TO tenantscope_app;`)
    const url = new URL(f.db.appUrl)
    counter = await startWireCounter({ host: url.hostname, port: Number(url.port || 5432) })
    raw = new pg.Pool({ connectionString: counter.url(f.db.appUrl), max: 1 })
    pool = createTenantPool(raw)
  })
  afterAll(async () => {
    await pool?.end()
    await counter?.close()
  })
  beforeEach(async () => {
    // App SQL left tenant B at session level on the only connection.
    await raw.query(`SELECT set_config('app.current_tenant', $1, false)`, [f.tenantB])
  })

  test('pool.query: a procedure that commits midway is refused (2D000), never runs its rest as B', async () => {
    await expect(withTenant(f.tenantA, () => pool.query('CALL commit_midway()'))).rejects.toMatchObject({ code: '2D000' })
  })

  test('pool.query: a procedure that does not commit runs for the tenant, in one round trip', async () => {
    await raw.query('SELECT 1')
    counter.reset()
    const { rows } = await withTenant(f.tenantA, () => pool.query('/* job */ CALL no_commit()'))
    expect(rows).toEqual([{ seen: f.tenantA }])
    expect(counter.roundTrips()).toBe(1)
  })

  test('pool.query: a DO block that commits midway is refused; one that does not writes for the tenant', async () => {
    await expect(
      withTenant(f.tenantA, () => pool.query(`DO $$ BEGIN COMMIT; INSERT INTO routine_log VALUES (${SEEN}); END $$`)),
    ).rejects.toMatchObject({ code: '2D000' })
    await withTenant(f.tenantA, () => pool.query(`do $$ BEGIN INSERT INTO routine_log VALUES (${SEEN}); END $$`))
    expect((await f.admin.query('SELECT seen FROM routine_log')).rows).toEqual([{ seen: f.tenantA }])
  })

  test('a client outside a transaction: refused, then the client works on (its block was rolled back)', async () => {
    await withTenant(f.tenantA, async () => {
      const client = await pool.connect()
      try {
        await expect(client.query('CALL commit_midway()')).rejects.toMatchObject({ code: '2D000' })
        expect((await client.query(`SELECT ${SEEN} AS seen`)).rows).toEqual([{ seen: f.tenantA }])
        // No transaction block left open: SAVEPOINT is refused outside one.
        await expect(client.query('SAVEPOINT s')).rejects.toMatchObject({ code: '25P01' })
        expect((await client.query('CALL no_commit()')).rows).toEqual([{ seen: f.tenantA }])
        // Fetched in pages (pg's `rows`): the block still ends with the statement.
        expect((await client.query({ text: 'CALL no_commit()', rows: 10 } as pg.QueryConfig)).rows).toEqual([{ seen: f.tenantA }])
        await expect(client.query('SAVEPOINT s')).rejects.toMatchObject({ code: '25P01' })
        // Inside the client's own transaction the CALL goes as it is.
        await client.query('BEGIN')
        expect((await client.query('CALL no_commit()')).rows).toEqual([{ seen: f.tenantA }])
        await client.query('COMMIT')
      } finally {
        client.release()
      }
    })
  })
})
