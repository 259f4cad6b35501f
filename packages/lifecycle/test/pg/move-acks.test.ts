import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type MoveTenantOptions, moveTenant } from '../../src/index.js'
import { bodiesAt, type MoveWorld, moveWorld, seedPoolTenant } from './_move-fixture.js'

// A freeze's acknowledgements count only from the instance's own listening
// connection: a NOTIFY on tenantscope_directory_ack from any other connection
// (any role can pg_notify) must not let a move go on while that instance may
// still write.
describe('moveTenant: forged acknowledgements', () => {
  const T = randomUUID()
  let world: MoveWorld
  let options: MoveTenantOptions
  const clients: pg.Client[] = []

  beforeAll(async () => {
    world = await moveWorld()
    await seedPoolTenant(world, T, 20)
    options = { admin: world.admin, tenantId: T, to: { strategy: 'pool', region: 'eu' }, connectionFor: (e) => world.connectionFor(e) }
  })
  afterAll(async () => {
    for (const client of clients) await client.end().catch(() => undefined)
    await world?.end()
  })

  const connect = async (applicationName: string) => {
    const client = new pg.Client({ connectionString: world.primary.appUrl, application_name: applicationName })
    client.on('error', () => undefined)
    await client.connect()
    clients.push(client)
    return client
  }
  // As the app role: on each directory change, acknowledge it for `instance`, with the row's current version.
  const forger = async (applicationName: string, instance: string) => {
    const client = await connect(applicationName)
    client.on('notification', async (message) => {
      if (message.channel !== 'tenantscope_directory' || !message.payload) return
      try {
        const { rows } = await client.query(
          `SELECT state, (extract(epoch FROM updated_at) * 1000000)::int8::text AS version FROM tenantscope.tenant_directory WHERE tenant_id = $1`,
          [message.payload],
        )
        const payload = JSON.stringify({ instance, tenant: message.payload, state: rows[0].state, version: rows[0].version })
        await client.query('SELECT pg_notify($1, $2)', ['tenantscope_directory_ack', payload])
      } catch {
        // the connection ended
      }
    })
    await client.query('LISTEN tenantscope_directory')
    return client
  }
  const entryOf = async () =>
    (await world.admin.query(`SELECT strategy, region, state FROM tenantscope.tenant_directory WHERE tenant_id = $1`, [T])).rows[0]

  test('acknowledgements for a silent instance, sent by a plain connection and by an impostor under its name, do not count', async () => {
    // The instance's listener: connected, never answers (it may still be writing).
    const victim = await connect('tenantscope-directory:victim')
    // The plain connection answers for it; the impostor also answers for itself, under the victim's name.
    await forger('reporting', 'victim')
    await forger('tenantscope-directory:victim', 'victim')
    await expect(moveTenant({ ...options, freezeTimeoutMillis: 1500 })).rejects.toMatchObject({ code: 'FREEZE_TIMEOUT' })
    expect(await entryOf()).toMatchObject({ strategy: 'pool', region: null, state: 'active' })
    expect(await bodiesAt(world.eu.adminUrl, 'public', T)).toEqual([])

    // The same answer from the instance's own listener counts: the move goes through.
    await victim.end()
    for (const client of clients.splice(0)) await client.end()
    await forger('tenantscope-directory:honest', 'honest')
    const receipt = await moveTenant({ ...options, freezeTimeoutMillis: 5000 })
    expect(receipt.instances).toBe(1)
    expect(await entryOf()).toMatchObject({ strategy: 'pool', region: 'eu', state: 'active' })
  })
})
