import { TenantScopeError, withTenant } from '@tenantscope/core'
import { createTenantSql } from '@tenantscope/postgres'
import { badTenantIds, startWireCounter, type WireCounter } from '@tenantscope/test-harness'
import postgres from 'postgres'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { useFixture } from './_fixture.js'

// Round trips are counted on the wire (turns and protocol messages through a
// proxy), never by timing.
describe.each([
  { prepare: true, label: 'prepare: true (postgres.js default)' },
  { prepare: false, label: 'prepare: false' },
])('round trips, $label', ({ prepare }) => {
  const fixture = useFixture()
  let counter: WireCounter
  let raw: postgres.Sql
  let sql: postgres.Sql

  beforeAll(async () => {
    const url = new URL(fixture.db.appUrl)
    counter = await startWireCounter({ host: url.hostname, port: Number(url.port || 5432) })
    raw = postgres(counter.url(fixture.db.appUrl), { max: 1, prepare, fetch_types: false })
    sql = createTenantSql(raw)
    await raw`SELECT 1` // connect and authenticate before counting
  })
  afterAll(async () => {
    await raw?.end({ timeout: 5 })
    await counter?.close()
  })
  beforeEach(() => counter.reset())

  // A statement postgres.js has prepared goes as Bind/Execute/Sync. Run each
  // once before counting (the first run of a statement with parameters asks
  // for its description first, raw or scoped alike).
  const tripsOf = async (run: () => Promise<unknown>) => {
    await run()
    counter.reset()
    await run()
    return counter.roundTrips()
  }

  // With prepare: false postgres.js describes every statement with
  // parameters before it binds it, and sends what waits behind a described
  // statement (COMMIT) one ReadyForQuery later: one round trip more than raw.
  test('a scoped statement: BEGIN with the setting, statement and COMMIT share one write (prepare: true)', async () => {
    const rawTrips = await tripsOf(() => raw`SELECT ${1}::int AS n`)
    const scopedTrips = await tripsOf(() => withTenant(fixture.tenantA, () => sql`SELECT id FROM tenants WHERE ${1}::int = 1`))
    expect(rawTrips).toBe(prepare ? 1 : 2)
    expect(scopedTrips).toBe(prepare ? 1 : 3)
    // `BEGIN; SET LOCAL ...` and COMMIT are simple Queries; only the statement is bound.
    if (prepare) expect(counter.messages()).toEqual({ Q: 2, B: 1, E: 1, S: 1 })
  })

  test('a scoped statement without parameters', async () => {
    const rawTrips = await tripsOf(() => raw`SELECT id FROM tenants`)
    const scopedTrips = await tripsOf(() => withTenant(fixture.tenantA, () => sql`SELECT id FROM tenants`))
    expect(rawTrips).toBe(1)
    expect(scopedTrips).toBe(1)
    expect(await withTenant(fixture.tenantA, () => sql`SELECT id FROM tenants`)).toEqual([{ id: fixture.tenantA }])
  })

  test('an id that may not be a literal: BEGIN, the setter with the id bound, statement, COMMIT, still one write (prepare: true)', async () => {
    const slugs = createTenantSql(raw, { parseTenantId: (id) => id })
    const id = "o'brien\\ünï"
    const run = () => withTenant(id, () => slugs`SELECT current_setting('app.current_tenant') AS tenant`)
    const scopedTrips = await tripsOf(run)
    expect(scopedTrips).toBe(prepare ? 1 : 4)
    if (prepare) expect(counter.messages()).toEqual({ Q: 2, B: 2, E: 2, S: 2 })
    expect(await run()).toEqual([{ tenant: id }])
  })

  test('sql.begin: the setter rides with the first statement, no round trip more than raw (prepare: true)', async () => {
    const body = (tx: postgres.TransactionSql) => async () => {
      await tx`SELECT count(*) FROM projects`
      await tx`SELECT count(*) FROM users`
    }
    const rawTrips = await tripsOf(() => raw.begin((tx) => body(tx)()))
    const scopedTrips = await tripsOf(() => withTenant(fixture.tenantA, () => sql.begin((tx) => body(tx)())))
    expect(scopedTrips).toBe(rawTrips + (prepare ? 0 : 2))
  })

  test('refusals send nothing: no context, bad ids', async () => {
    await expect(sql`SELECT 1`).rejects.toMatchObject({ name: 'TenantScopeError', code: 'TENANT_CONTEXT_MISSING' })
    await expect(sql.unsafe('SELECT 1')).rejects.toMatchObject({ code: 'TENANT_CONTEXT_MISSING' })
    await expect(sql.begin((tx) => tx`SELECT 1`)).rejects.toMatchObject({ code: 'TENANT_CONTEXT_MISSING' })
    for (const bad of badTenantIds) {
      await expect(withTenant(bad as string, () => sql`SELECT 1`)).rejects.toSatisfy((error) =>
        TenantScopeError.is(error, 'INVALID_TENANT_ID'),
      )
    }
    expect(counter.roundTrips()).toBe(0)
    expect(counter.messages()).toEqual({})
  })
})
