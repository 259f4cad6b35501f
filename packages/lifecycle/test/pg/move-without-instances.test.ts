import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { finishMove, type MoveReceipt, moveTenant } from '../../src/index.js'
import { bodiesAt, type MoveWorld, moveWorld, seedPoolTenant } from './_move-fixture.js'

// Moves where no app instance listens (none runs here): refused unless
// settleMillis is given; and a switch whose COMMIT went through but whose
// answer was lost.
describe('moveTenant without listening instances', () => {
  const T = randomUUID()
  let world: MoveWorld
  beforeAll(async () => {
    world = await moveWorld()
    await seedPoolTenant(world, T, 50)
  })
  afterAll(async () => {
    await world?.end()
  })

  const entryOf = async () =>
    (await world.admin.query(`SELECT strategy, region, state FROM tenantscope.tenant_directory WHERE tenant_id = $1`, [T])).rows[0]
  const options = (admin: pg.Pool) => ({
    admin,
    tenantId: T,
    to: { strategy: 'pool' as const, region: 'eu' },
    connectionFor: (entry: { strategy: string; database?: string; region?: string }) => world.connectionFor(entry),
    graceMillis: 3_600_000,
  })

  test('no app instance listens: NO_LISTENERS, nothing changed (an instance whose listener is down would be passed unseen)', async () => {
    await expect(moveTenant(options(world.admin))).rejects.toMatchObject({ code: 'NO_LISTENERS' })
    expect(await entryOf()).toEqual({ strategy: 'pool', region: null, state: 'active' })
    expect((await world.admin.query(`SELECT 1 FROM tenantscope.tenant_moves WHERE tenant_id = $1`, [T])).rowCount).toBe(0)
    expect(await bodiesAt(world.eu.adminUrl, 'public', T)).toEqual([])
    await expect(moveTenant({ ...options(world.admin), settleMillis: -1 })).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
  })

  test('a switch whose COMMIT went through but whose answer was lost returns its receipt and never erases the live copy', async () => {
    const real = world.admin
    // The admin pool, except that the COMMIT of the switch reports a lost connection once it has committed.
    const admin = new Proxy(real, {
      get(target, prop) {
        if (prop === 'connect') {
          return async () => {
            const client = await target.connect()
            let switching = false
            const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>
            ;(client as unknown as { query: unknown }).query = async (...args: unknown[]) => {
              const text = typeof args[0] === 'string' ? args[0] : ''
              if (text.includes("SET phase = 'switched'")) switching = true
              const result = await query(...args)
              if (text === 'COMMIT' && switching) {
                switching = false
                throw new Error('Connection terminated unexpectedly')
              }
              return result
            }
            return client
          }
        }
        const value = Reflect.get(target, prop)
        return typeof value === 'function' ? value.bind(target) : value
      },
    }) as pg.Pool
    // settleMillis: moves although no instance listens.
    const receipt: MoveReceipt = await moveTenant({ ...options(admin), settleMillis: 0 })
    expect(receipt).toMatchObject({ tenantId: T, rows: 55, to: { strategy: 'pool', region: 'eu' }, instances: 0 })
    expect(await entryOf()).toEqual({ strategy: 'pool', region: 'eu', state: 'active' })
    // The live copy is whole, and the source keeps its copy for the grace period.
    expect((await bodiesAt(world.eu.adminUrl, 'public', T)).length).toBe(50)
    expect((await bodiesAt(world.primary.adminUrl, 'public', T)).length).toBe(50)
    const journal = await real.query(`SELECT phase FROM tenantscope.tenant_moves WHERE tenant_id = $1`, [T])
    expect(journal.rows).toEqual([{ phase: 'switched' }])
    // A rerun answers with the same receipt.
    expect(await moveTenant({ ...options(real), settleMillis: 0 })).toEqual(receipt)
  })

  test('finishMove refuses while the directory points at the source again, and erases nothing', async () => {
    // An operator moved the entry back by hand.
    await world.admin.query(`UPDATE tenantscope.tenant_directory SET region = NULL WHERE tenant_id = $1`, [T])
    const finish = () => finishMove({ admin: world.admin, tenantId: T, connectionFor: (e) => world.connectionFor(e), force: true })
    await expect(finish()).rejects.toMatchObject({ code: 'MOVE_IN_PROGRESS' })
    expect((await bodiesAt(world.primary.adminUrl, 'public', T)).length).toBe(50)
    await world.admin.query(`UPDATE tenantscope.tenant_directory SET region = 'eu' WHERE tenant_id = $1`, [T])
    expect((await finish()).erased.verified).toBe(true)
    expect(await bodiesAt(world.primary.adminUrl, 'public', T)).toEqual([])
    expect((await bodiesAt(world.eu.adminUrl, 'public', T)).length).toBe(50)
  })
})
