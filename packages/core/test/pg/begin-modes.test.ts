// A BEGIN that sets transaction modes must run before any query of its
// transaction (else SQLSTATE 25001), so its setter follows it, in the same
// round trip. Found through Drizzle's transaction(fn, { isolationLevel }).
import { createTenantPool, withTenant } from '@tenantscope/core'
import { startWireCounter } from '@tenantscope/test-harness'
import pg from 'pg'
import { describe, expect, test } from 'vitest'
import { useFixture } from './_fixtures.js'

const f = useFixture()

describe('BEGIN with transaction modes', () => {
  test('pool.transaction with isolationLevel and readOnly runs for the tenant, modes applied', async () => {
    const pool = createTenantPool({ connectionString: f.db.appUrl, max: 1 })
    try {
      const seen = await withTenant(f.tenantA, () =>
        pool.transaction(
          async (tx) =>
            (
              await tx.query(
                `SELECT current_setting('transaction_isolation') AS iso, current_setting('transaction_read_only') AS ro,
                        current_setting('app.current_tenant') AS tenant, (SELECT count(*)::int FROM tenants) AS visible`,
              )
            ).rows[0],
          { isolationLevel: 'serializable', readOnly: true, deferrable: true },
        ),
      )
      expect(seen).toEqual({ iso: 'serializable', ro: 'on', tenant: f.tenantA, visible: 1 })
      const { rows } = await pool.unscopedPool.query(`SELECT current_setting('app.current_tenant', true) AS t`)
      expect(rows[0].t ?? '').toBe('')
    } finally {
      await pool.end()
    }
  })

  test('a client BEGIN with modes in text form: one round trip for BEGIN and setter', async () => {
    const target = new URL(f.db.appUrl)
    const counter = await startWireCounter({ host: target.hostname, port: Number(target.port || 5432) })
    const pool = createTenantPool(new pg.Pool({ connectionString: counter.url(f.db.appUrl), max: 1 }))
    try {
      await pool.unscopedPool.query('SELECT 1')
      await withTenant(f.tenantB, async () => {
        const client = await pool.connect()
        try {
          counter.reset()
          await client.query('begin isolation level repeatable read read only')
          expect(counter.roundTrips()).toBe(1)
          const { rows } = await client.query(
            `SELECT current_setting('transaction_isolation') AS iso, current_setting('app.current_tenant') AS t`,
          )
          expect(rows[0]).toEqual({ iso: 'repeatable read', t: f.tenantB })
          await client.query('COMMIT')
        } finally {
          client.release()
        }
      })
    } finally {
      await pool.end()
      await counter.close()
    }
  })

  test('TenantPoolClient forwards on/off to its connection (Drizzle 1.0 listens for error); release removes what it added', async () => {
    const pool = createTenantPool({ connectionString: f.db.appUrl, max: 1 })
    const errorListeners = async () => {
      const physical = await pool.unscopedPool.connect() // max 1: always the same connection
      try {
        return physical.listeners('error')
      } finally {
        physical.release()
      }
    }
    try {
      await withTenant(f.tenantA, () => pool.query('SELECT 1')) // the pool's own listeners are in place
      const before = (await errorListeners()).length
      const listener = () => undefined
      await withTenant(f.tenantA, async () => {
        const client = await pool.connect()
        expect(client.on('error', listener)).toBe(client)
        expect(client.off('error', listener)).toBe(client)
        client.on('error', listener) // left for release() to remove
        client.release()
      })
      expect(await errorListeners()).not.toContain(listener)
      expect((await errorListeners()).length).toBe(before)
    } finally {
      await pool.end()
    }
  })
})
