import { randomUUID } from 'node:crypto'
import type net from 'node:net'
import { TenantScopeError, withTenant } from '@tenantscope/core'
import { createTenantSql, tenantSocket } from '@tenantscope/postgres'
import { startWireCounter, type WireCounter, withClient } from '@tenantscope/test-harness'
import postgres from 'postgres'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import type { QueryInternals } from '../../src/_postgres-internals.js'
import { encodeToken } from '../../src/tenant-token.js'
import { TOKEN_PREFIX } from '../../src/wire-splice.js'
import { useFixture } from './_fixture.js'

const SET_CONFIG = 'SELECT set_config($1, $2, true)'
// F FunctionCall: a message postgres.js never sends, so the socket cannot follow it.
const FUNCTION_CALL = Buffer.from([0x46, 0, 0, 0, 4])

/** A postgres.js pool over tenantSocket() that keeps its sockets, to feed one a stray reply or write. */
function keepingSockets(url: string, settings: postgres.Options<{}>) {
  const sockets: net.Socket[] = []
  const options = tenantSocket(settings)
  const made = (options as { socket?: unknown }).socket as (parsed: unknown) => net.Socket
  const socket = Object.assign((parsed: unknown) => sockets[sockets.push(made(parsed)) - 1]!, made)
  return { sockets, pool: postgres(url, { ...options, socket } as postgres.Options<{}>) }
}

describe.each([
  { prepare: true, label: 'prepare: true' },
  { prepare: false, label: 'prepare: false' },
])('tenantSocket(), $label', ({ prepare }) => {
  const fixture = useFixture()
  const tenants: string[] = []
  let raw: postgres.Sql
  let sql: postgres.Sql
  let admin: postgres.Sql
  const backendOf = async (sqlOf: postgres.Sql) => (await sqlOf`SELECT pg_backend_pid() AS pid`)[0]!.pid as number

  beforeAll(async () => {
    // 20 tenants with one project each, besides the fixture's two.
    await withClient(fixture.db.adminUrl, async (client) => {
      for (let i = 0; i < 20; i++) {
        const id = randomUUID()
        tenants.push(id)
        await client.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [id, `t${i}`])
        await client.query('INSERT INTO projects (tenant_id, name) VALUES ($1, $2)', [id, `p${i}`])
      }
    })
    raw = postgres(fixture.db.appUrl, tenantSocket({ max: 1, prepare, onnotice: () => undefined }))
    sql = createTenantSql(raw)
    admin = postgres(fixture.db.adminUrl, { max: 1, onnotice: () => undefined })
  })
  afterAll(async () => {
    await raw?.end({ timeout: 5 })
    await admin?.end({ timeout: 5 })
  })

  test('a statement runs for its tenant and the connection keeps nothing afterwards', async () => {
    const rows = await withTenant(fixture.tenantA, () => sql`SELECT tenant_id, name FROM projects WHERE name <> ${'none'}`)
    expect([...rows]).toEqual([{ tenant_id: fixture.tenantA, name: 'a1' }])
    const setting = await withTenant(fixture.tenantB, () => sql`SELECT current_setting('app.current_tenant') AS tenant`)
    expect([...setting]).toEqual([{ tenant: fixture.tenantB }])
    // The raw sql on the same single connection: nothing left.
    expect(await raw`SELECT coalesce(current_setting('app.current_tenant', true), '') AS tenant`).toEqual([{ tenant: '' }])
    expect(await raw`SELECT count(*)::int AS n FROM projects`).toEqual([{ n: 0 }])
  })

  test('a setter that fails rejects with its error, the statement never runs, the connection goes on', async () => {
    const failing = createTenantSql(raw, { setter: () => ({ text: 'SELECT 1 / 0', values: [] }) })
    const pid = await backendOf(raw)
    await expect(withTenant(fixture.tenantA, () => failing`INSERT INTO projects (name) VALUES (${'never'})`)).rejects.toMatchObject({
      code: '22012',
    })
    await expect(withTenant(fixture.tenantA, () => failing`SELECT name FROM projects`)).rejects.toMatchObject({ code: '22012' })
    expect(await admin`SELECT count(*)::int AS n FROM projects WHERE name = 'never'`).toEqual([{ n: 0 }])
    // Same connection, still in step: the next statement gets its own rows.
    expect(await backendOf(raw)).toBe(pid)
    expect([...(await withTenant(fixture.tenantB, () => sql`SELECT name FROM projects`))]).toEqual([{ name: 'b1' }])
  })

  const unscopedView = async () =>
    (await raw`SELECT coalesce(current_setting('app.current_tenant', true), '') AS tenant, count(*)::int AS n FROM projects`)[0]

  test('a transaction-control statement is not spliced: it runs as without the socket and leaves nothing on the connection', async () => {
    const pid = await backendOf(raw)
    for (const text of [
      'BEGIN',
      'begin isolation level serializable',
      '  START TRANSACTION',
      '/* a comment */ BEGIN',
      'COMMIT',
      'END',
      'ROLLBACK',
      'ABORT',
      'SAVEPOINT s',
      'SET TRANSACTION READ ONLY',
      'DO $$ BEGIN PERFORM 1; END $$',
    ]) {
      const query = () => sql.unsafe(text, [], { prepare, simple: false } as postgres.UnsafeQueryOptions)
      // As without tenantSocket(): inside BEGIN ... COMMIT, BEGIN only warns.
      await withTenant(fixture.tenantA, query)
      expect({ text, view: await unscopedView() }).toEqual({ text, view: { tenant: '', n: 0 } })
    }
    // The tagged form too, and the connection was never given up.
    await withTenant(fixture.tenantA, () => sql`BEGIN`)
    expect(await unscopedView()).toEqual({ tenant: '', n: 0 })
    expect(await backendOf(raw)).toBe(pid)
  })

  test("a failed Parse before the setter's, first on a connection, does not break the next statement", async () => {
    const onFresh = async (run: (scoped: postgres.Sql) => Promise<void>) => {
      const fresh = postgres(fixture.db.appUrl, tenantSocket({ max: 1, prepare, onnotice: () => undefined }))
      try {
        await run(createTenantSql(fresh))
      } finally {
        await fresh.end({ timeout: 5 })
      }
    }
    await onFresh(async (scoped) => {
      await expect(withTenant(fixture.tenantA, () => scoped`SELEC 1`)).rejects.toMatchObject({ code: '42601' })
      await expect(withTenant(fixture.tenantA, () => scoped`SELECT name FROM no_such_table`)).rejects.toMatchObject({ code: '42P01' })
      expect([...(await withTenant(fixture.tenantA, () => scoped`SELECT name FROM projects`))]).toEqual([{ name: 'a1' }])
    })
    // Pipelined: the second is sent before the first's failure is known.
    await onFresh(async (scoped) => {
      const [bad, good] = await Promise.allSettled([
        withTenant(fixture.tenantB, () => scoped`SELECT nope FROM projects`),
        withTenant(fixture.tenantB, () => scoped`SELECT name, ${1}::int AS one FROM projects`),
      ])
      expect(bad).toMatchObject({ status: 'rejected', reason: { code: '42703' } })
      expect(good).toMatchObject({ status: 'fulfilled', value: [{ name: 'b1', one: 1 }] })
      expect([...(await withTenant(fixture.tenantA, () => scoped`SELECT name FROM projects`))]).toEqual([{ name: 'a1' }])
    })
  })

  test("the setter's statement dropped on the server (DEALLOCATE ALL): parsed again, never run without it", async () => {
    await withTenant(fixture.tenantA, () => sql`SELECT name FROM projects`)
    await raw.unsafe('DEALLOCATE ALL')
    // postgres.js retries a statement whose prepared statement went missing;
    // with prepare: false there is nothing to retry, the setter is parsed every time.
    const next = () => withTenant(fixture.tenantA, () => sql`SELECT name FROM projects`)
    const first = await next().then(
      (rows) => [...rows],
      (error: { code?: string }) => error.code,
    )
    expect([[{ name: 'a1' }], '26000']).toContainEqual(first)
    expect([...(await next())]).toEqual([{ name: 'a1' }])
  })

  test('a statement without a token on this socket, or with one the socket cannot read, fails closed', async () => {
    // The portal name tells the socket to splice; one it cannot read is sent
    // as it is, and the statement's Execute (of the unnamed portal) finds nothing.
    const made = raw.unsafe('SELECT name FROM projects', [], {
      prepare,
      simple: false,
    } as postgres.UnsafeQueryOptions) as unknown as QueryInternals
    made.cursorName = `${TOKEN_PREFIX}999999:[]`
    await expect(made).rejects.toMatchObject({ code: '34000' })
    // Without tenantSocket(), a tokened statement fails the same way.
    const plain = postgres(fixture.db.appUrl, { max: 1, prepare, onnotice: () => undefined })
    try {
      const query = plain.unsafe('SELECT name FROM projects', [], {
        prepare,
        simple: false,
      } as postgres.UnsafeQueryOptions) as unknown as QueryInternals
      query.cursorName = encodeToken({ text: SET_CONFIG, values: ['app.current_tenant', fixture.tenantA] })
      await expect(query).rejects.toMatchObject({ code: '34000' })
    } finally {
      await plain.end({ timeout: 5 })
    }
  })

  test('a simple-protocol query (no Bind to carry the setter) goes as without the socket', async () => {
    const results = await withTenant(fixture.tenantA, () =>
      sql.unsafe(`SELECT count(*)::int AS n FROM projects; SELECT current_setting('app.current_tenant') AS tenant`),
    )
    expect((results as unknown as postgres.RowList<postgres.Row[]>[]).map((result) => [...result])).toEqual([
      [{ n: 1 }],
      [{ tenant: fixture.tenantA }],
    ])
  })

  test('a connection killed mid-statement: the statement fails, the next ones run for their own tenants', async () => {
    const pid = await backendOf(raw)
    const slow = withTenant(fixture.tenantA, () => sql`SELECT pg_sleep(${5}), current_setting('app.current_tenant') AS tenant`)
    const settled = slow.then(
      () => 'resolved',
      (error: { code?: string }) => error.code ?? 'rejected',
    )
    await new Promise((resolve) => setTimeout(resolve, 300))
    await admin`SELECT pg_terminate_backend(${pid})`
    expect(await settled).not.toBe('resolved')
    for (const tenant of [fixture.tenantB, fixture.tenantA, ...tenants.slice(0, 3)]) {
      const rows = await withTenant(tenant, () => sql`SELECT tenant_id, current_setting('app.current_tenant') AS s FROM projects`)
      expect([...rows]).toEqual([{ tenant_id: tenant, s: tenant }])
    }
    expect(await backendOf(raw)).not.toBe(pid)
  })

  test('a reply or a write the socket cannot follow ends the connection: what was in flight fails typed, nothing waits, a max: 1 pool goes on', async () => {
    const { sockets, pool } = keepingSockets(fixture.db.appUrl, { max: 1, prepare, onnotice: () => undefined })
    const scoped = createTenantSql(pool)
    // A BindComplete nothing asked for (the unit tests' stray reply).
    const stray = () => sockets.at(-1)!.emit('data', Buffer.from([0x32, 0, 0, 0, 4]))
    const outcome = (run: () => Promise<unknown>) =>
      run().then(
        () => 'resolved',
        (error: { code?: string }) => error.code,
      )
    try {
      await withTenant(fixture.tenantA, () => scoped`SELECT 1`)
      // In flight: the statement fails with the connection's typed error; the
      // one queued behind it fails too, or runs on the next connection; what
      // is sent before the socket closed fails as on any closed connection.
      const slow = outcome(() => withTenant(fixture.tenantA, () => scoped`SELECT pg_sleep(${0.5})`))
      const next = withTenant(fixture.tenantB, () => scoped`SELECT name FROM projects`).then(
        (rows) => [...rows],
        (error: { code?: string }) => error.code,
      )
      await new Promise((resolve) => setTimeout(resolve, 100))
      stray()
      expect(await slow).toBe('CONNECTION_DESTROYED')
      expect(['CONNECTION_DESTROYED', 'CONNECTION_CLOSED', [{ name: 'b1' }]]).toContainEqual(await next)
      expect(['CONNECTION_CLOSED', 'resolved']).toContain(await outcome(() => withTenant(fixture.tenantB, () => scoped`SELECT 1`)))
      // Then the one connection is back: each statement for its own tenant.
      for (const tenant of [fixture.tenantA, fixture.tenantB]) {
        const rows = await withTenant(tenant, () => scoped`SELECT tenant_id FROM projects`)
        expect([...rows]).toEqual([{ tenant_id: tenant }])
      }
      // Idle: the next statement fails or runs; none is left waiting, and the pool goes on.
      stray()
      expect(['CONNECTION_CLOSED', 'resolved']).toContain(await outcome(() => withTenant(fixture.tenantA, () => scoped`SELECT 1`)))
      expect(['CONNECTION_CLOSED', 'resolved']).toContain(await outcome(() => pool`SELECT 1`))
      expect([...(await withTenant(fixture.tenantB, () => scoped`SELECT tenant_id FROM projects`))]).toEqual([
        { tenant_id: fixture.tenantB },
      ])
      // A message the socket cannot follow, written while a statement is in
      // flight: the same, from the writing side.
      const inFlight = outcome(() => withTenant(fixture.tenantA, () => scoped`SELECT pg_sleep(${0.5})`))
      await new Promise((resolve) => setTimeout(resolve, 100))
      const written = new Promise<unknown>((resolve) => sockets.at(-1)!.write(FUNCTION_CALL, resolve))
      expect(await inFlight).toBe('CONNECTION_DESTROYED')
      expect(await written).toMatchObject({ name: 'SpliceError', code: 'CONNECTION_DESTROYED' })
      expect(['CONNECTION_CLOSED', 'resolved']).toContain(await outcome(() => pool`SELECT 1`))
      expect([...(await withTenant(fixture.tenantA, () => scoped`SELECT tenant_id FROM projects`))]).toEqual([
        { tenant_id: fixture.tenantA },
      ])
      expect(sockets.length).toBe(4)
    } finally {
      await pool.end({ timeout: 5 })
    }
    // Closed (failed, or ended by postgres.js, which then stops listening): a
    // write the socket cannot follow reports nothing more (an 'error' without
    // a listener would be thrown).
    for (const closed of sockets) expect(() => closed.write(FUNCTION_CALL)).not.toThrow()
  })

  test('a chunk with a whole reply, then one that fits nothing sent: the statement replied to resolves (a committed write is not reported lost), then the connection fails', async () => {
    const { sockets, pool } = keepingSockets(fixture.db.appUrl, { max: 1, prepare, onnotice: () => undefined })
    const scoped = createTenantSql(pool)
    const name = `committed-${prepare}`
    try {
      await withTenant(fixture.tenantA, () => scoped`SELECT 1`)
      // The next chunk from the server that ends with a ReadyForQuery gets a
      // stray BindComplete behind it, as one chunk.
      const live = sockets[0]!
      const closing = new Promise((resolve) => live.once('close', resolve))
      const received = live.emit.bind(live) as (event: string | symbol, ...args: unknown[]) => boolean
      let armed = true
      live.emit = ((event: string | symbol, ...args: unknown[]) => {
        const chunk = args[0] as Buffer
        if (event !== 'data' || !armed || chunk[chunk.length - 6] !== 0x5a) return received(event, ...args)
        armed = false
        return received('data', Buffer.concat([chunk, Buffer.from([0x32, 0, 0, 0, 4])]))
      }) as typeof live.emit
      const inserted = await withTenant(fixture.tenantA, () => scoped`INSERT INTO projects (name) VALUES (${name}) RETURNING name`).then(
        (rows) => [...rows],
        (error: { code?: string }) => error.code,
      )
      expect(armed).toBe(false)
      expect(inserted).toEqual([{ name }])
      // The connection failed: once it has closed, the next statement runs on a new one.
      await closing
      expect([...(await withTenant(fixture.tenantA, () => scoped`SELECT count(*)::int AS n FROM projects WHERE name = ${name}`))]).toEqual([
        { n: 1 },
      ])
      expect(sockets.length).toBe(2)
    } finally {
      await pool.end({ timeout: 5 })
      await admin`DELETE FROM projects WHERE name = ${name}`
    }
  })

  test('a failed connection: one recovery query per statement in flight, though postgres.js rejects the active one twice', async () => {
    const executed: string[] = []
    const { sockets, pool } = keepingSockets(fixture.db.appUrl, {
      max: 1,
      prepare,
      onnotice: () => undefined,
      debug: (_id: number, text: string) => executed.push(text),
    })
    const scoped = createTenantSql(pool)
    try {
      await withTenant(fixture.tenantA, () => scoped`SELECT 1 AS warm`)
      const inFlight = Array.from({ length: 5 }, () =>
        withTenant(fixture.tenantA, () => scoped`SELECT pg_sleep(${0.2})`).then(
          () => 'resolved',
          (error: { code?: string }) => error.code,
        ),
      )
      await new Promise((resolve) => setTimeout(resolve, 50))
      sockets.at(-1)!.emit('data', Buffer.from([0x32, 0, 0, 0, 4])) // a stray BindComplete
      const outcomes = await Promise.all(inFlight)
      await withTenant(fixture.tenantA, () => scoped`SELECT 2 AS after`)
      const failed = outcomes.filter((code) => code !== 'resolved')
      expect(failed.length).toBeGreaterThan(0)
      // The recovery query is the unscoped SELECT 1 (see spliced-statement.ts).
      expect(executed.filter((text) => text === 'SELECT 1').length).toBe(failed.length)
    } finally {
      await pool.end({ timeout: 5 })
    }
  })

  test('outside withTenant nothing is sent; TLS is refused', async () => {
    await expect(sql`SELECT 1`).rejects.toBeInstanceOf(TenantScopeError)
    expect(() => tenantSocket({ ssl: 'require' })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
    const tls = postgres(`${fixture.db.appUrl}?sslmode=require`, tenantSocket({ max: 1 }))
    try {
      expect(() => createTenantSql(tls)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
    } finally {
      await tls.end({ timeout: 1 })
    }
  })

  test('many tenants interleaved on two connections, pipelined, with failing statements and setters among them: never another tenant', async () => {
    const pool = postgres(fixture.db.appUrl, tenantSocket({ max: 2, prepare, onnotice: () => undefined }))
    const scoped = createTenantSql(pool)
    const failingSetter = createTenantSql(pool, { setter: () => ({ text: 'SELECT 1 / 0', values: [] }) })
    const wrong: unknown[] = []
    try {
      const tasks = Array.from({ length: 600 }, async (_, i) => {
        const tenant = tenants[i % tenants.length]!
        return withTenant(tenant, async () => {
          switch (i % 6) {
            case 0:
              return check(
                tenant,
                await scoped`SELECT tenant_id, current_setting('app.current_tenant') AS s FROM projects WHERE name <> ${'x'}`,
              )
            case 1:
              return check(tenant, await scoped`SELECT tenant_id, current_setting('app.current_tenant') AS s FROM projects`)
            case 2:
              return check(
                tenant,
                await scoped.unsafe(`SELECT tenant_id, current_setting('app.current_tenant') AS s FROM projects WHERE $1::int = 1`, [1], {
                  prepare: false,
                }),
              )
            case 3:
              return expect(scoped`SELECT 1 / ${0}`).rejects.toMatchObject({ code: '22012' })
            case 4:
              return expect(failingSetter`SELECT tenant_id FROM projects`).rejects.toMatchObject({ code: '22012' })
            default: {
              const count = await scoped`UPDATE projects SET name = name WHERE tenant_id <> ${tenant} RETURNING tenant_id`
              if (count.length !== 0) wrong.push(['update', tenant, [...count]])
            }
          }
        })
      })
      await Promise.all(tasks)
    } finally {
      await pool.end({ timeout: 5 })
    }
    expect(wrong).toEqual([])

    function check(tenant: string, rows: readonly { tenant_id: string; s: string }[]) {
      if (rows.length !== 1 || rows[0]!.tenant_id !== tenant || rows[0]!.s !== tenant) wrong.push([tenant, [...rows]])
    }
  })
})

// Counted on the wire: one Sync per scoped statement, as raw postgres.js.
describe.each([{ prepare: true }, { prepare: false }])('tenantSocket() on the wire, prepare: $prepare', ({ prepare }) => {
  const fixture = useFixture()
  let counter: WireCounter
  let raw: postgres.Sql
  let sql: postgres.Sql

  beforeAll(async () => {
    const url = new URL(fixture.db.appUrl)
    counter = await startWireCounter({ host: url.hostname, port: Number(url.port || 5432) })
    raw = postgres(counter.url(fixture.db.appUrl), tenantSocket({ max: 1, prepare, fetch_types: false }))
    sql = createTenantSql(raw)
    await raw`SELECT 1`
  })
  afterAll(async () => {
    await raw?.end({ timeout: 5 })
    await counter?.close()
  })
  beforeEach(() => counter.reset())

  const countOf = async (run: () => Promise<unknown>) => {
    await run()
    counter.reset()
    await run()
    return { trips: counter.roundTrips(), syncs: counter.messages().S ?? 0, messages: counter.messages() }
  }

  test('a scoped statement is one command, one Sync, the round trips of raw', async () => {
    const rawCount = await countOf(() => raw`SELECT ${1}::int AS n`)
    const scoped = await countOf(() => withTenant(fixture.tenantA, () => sql`SELECT id FROM tenants WHERE ${1}::int = 1`))
    expect(scoped.trips).toBe(rawCount.trips)
    expect(scoped.syncs).toBe(1)
    // The setter's Bind and Execute (Close and Parse too with prepare: false) beside the statement's.
    if (prepare) expect(scoped.messages).toEqual({ B: 2, E: 2, S: 1 })
    else expect(scoped.messages).toMatchObject({ P: 2, B: 2, E: 2, C: 1, S: 1 })
  })
})
