import { AsyncLocalStorage } from 'node:async_hooks'
import { createTenantPool, type TenantPool, type TenantPoolClient, tryGetTenantId, withTenant } from '@tenantscope/core'
import pg from 'pg'
import Cursor from 'pg-cursor'
import QueryStream from 'pg-query-stream'
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { useFixture } from './_fixtures.js'

const NOTICE = `DO $$ BEGIN RAISE NOTICE 'hello'; END $$`

// Which tenant user code runs as when pg calls it back from a pooled
// connection's socket. The connection is first opened under tenant A, so a
// callback that inherited the socket's context would run as A.
describe('callbacks and events run in the context they were registered in', () => {
  const fixture = useFixture()
  const A = () => fixture.tenantA
  const B = () => fixture.tenantB
  let single: TenantPool

  beforeAll(async () => {
    await fixture.admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'project of A'), ($2, 'project of B')`, [A(), B()])
  })
  beforeEach(async () => {
    single = createTenantPool({ connectionString: fixture.db.appUrl, max: 1 })
    // The pool's only connection is opened inside tenant A's context.
    await withTenant(A(), () => single.query('SELECT 1'))
  })
  afterEach(() => single?.end())

  interface Observed {
    tenant: string | undefined
    names: unknown
  }
  // What a callback sees: the current tenant, and what a scoped query returns.
  const observe = async (): Promise<Observed> => {
    const tenant = tryGetTenantId()
    const names = await single
      .query('SELECT name FROM projects')
      .then((result) => result.rows.map((row) => row.name as string))
      .catch((error: { code?: string }) => error.code)
    return { tenant, names }
  }

  // Each callback starts observe() where it runs; the results are awaited
  // after release (the pool has one connection).
  const asB = async (use: (client: TenantPoolClient, seen: Promise<Observed>[]) => Promise<void>) =>
    withTenant(B(), async () => {
      const seen: Promise<Observed>[] = []
      const client = await single.connect()
      try {
        await use(client, seen)
      } finally {
        client.release()
      }
      return Promise.all(seen)
    })
  const asExpected = (count: number) => Array.from({ length: count }, () => ({ tenant: B(), names: ['project of B'] }))

  test("a pg-cursor read callback registered under B runs as B, and a pool.query inside it reads B's rows", async () => {
    const seen = await asB(async (client, seen) => {
      const cursor = client.query(new Cursor('SELECT 1 AS one'))
      await new Promise<void>((resolve, reject) =>
        cursor.read(1, (error) => {
          seen.push(observe())
          if (error) reject(error)
          else resolve()
        }),
      )
      await cursor.close()
    })
    expect(seen).toEqual(asExpected(1))
  })

  test("a cursor's row events and close callback run as B too", async () => {
    const seen = await asB(async (client, seen) => {
      const cursor = client.query(new Cursor('SELECT g FROM generate_series(1, 2) g'))
      cursor.on('row', () => seen.push(observe()))
      await cursor.read(5)
      await new Promise<void>((resolve) =>
        cursor.close(() => {
          seen.push(observe())
          resolve()
        }),
      )
    })
    expect(seen).toEqual(asExpected(3))
  })

  test("pg-query-stream 'data' and 'end' handlers registered under B run as B", async () => {
    const seen = await asB(async (client, seen) => {
      const stream = client.query(new QueryStream('SELECT g FROM generate_series(1, 3) g', [], { batchSize: 1 }))
      await new Promise<void>((resolve, reject) => {
        stream.on('data', () => seen.push(observe()))
        stream.on('end', () => {
          seen.push(observe())
          resolve()
        })
        stream.on('error', reject)
      })
    })
    expect(seen).toEqual(asExpected(4))
  })

  test("client.on('notice') and client.once('notice') registered under B run as B", async () => {
    const seen = await asB(async (client, seen) => {
      client.on('notice', () => seen.push(observe()))
      client.once('notice', () => seen.push(observe()))
      await client.query(NOTICE)
    })
    expect(seen).toEqual(asExpected(2))
  })

  test('callbacks passed to client.query, pool.query and pool.connect run as B', async () => {
    const seen = await asB(async (client, seen) => {
      await new Promise<void>((resolve) =>
        client.query('SELECT 1', () => {
          seen.push(observe())
          resolve()
        }),
      )
    })
    const viaPool = await withTenant(B(), async () => {
      const observed: Promise<Observed>[] = []
      await new Promise<void>((resolve) =>
        single.query('SELECT 1', () => {
          observed.push(observe())
          resolve()
        }),
      )
      await new Promise<void>((resolve) =>
        single.connect((_error, _client, done) => {
          done?.()
          observed.push(observe())
          resolve()
        }),
      )
      return Promise.all(observed)
    })
    expect([...seen, ...viaPool]).toEqual(asExpected(3))
  })

  test('a pg.Query submitted as a query object emits its rows and end as B', async () => {
    const seen = await asB(async (client, seen) => {
      const query = client.query(new pg.Query('SELECT 1 AS one') as never) as unknown as pg.Query
      query.on('row', () => seen.push(observe()))
      await new Promise((resolve) =>
        query.on('end', () => {
          seen.push(observe())
          resolve(undefined)
        }),
      )
    })
    expect(seen).toEqual(asExpected(2))
  })

  test('socket events of a connection opened under A see no tenant: a stray scoped query fails closed', async () => {
    // A raw listener on the same physical connection runs in the connection's own context.
    const raw = await single.unscopedPool.connect()
    let seen!: Promise<Observed>
    try {
      const noticed = new Promise<void>((resolve) =>
        raw.once('notice', () => {
          seen = observe()
          resolve()
        }),
      )
      await raw.query(NOTICE)
      await noticed
    } finally {
      raw.release()
    }
    expect(await seen).toEqual({ tenant: undefined, names: 'TENANT_CONTEXT_MISSING' })
  })

  test('pool timers (the idle timeout that removes a connection) see no tenant', async () => {
    const idle = createTenantPool({ connectionString: fixture.db.appUrl, max: 1, idleTimeoutMillis: 20 })
    try {
      const removed = new Promise<string | undefined>((resolve) => idle.once('remove', () => resolve(tryGetTenantId())))
      await withTenant(A(), () => idle.query('SELECT 1'))
      expect(await removed).toBeUndefined()
    } finally {
      await idle.end()
    }
  })

  test('a released client refuses on() and once() (CLIENT_RELEASED); what it added hears nothing of the next tenant', async () => {
    const heard: string[] = []
    await withTenant(A(), async () => {
      const client = await single.connect()
      client.on('notice', () => heard.push('A on'))
      client.once('notice', () => heard.push('A once'))
      client.release()
      expect(() => client.on('notice', () => heard.push('late on'))).toThrow(expect.objectContaining({ code: 'CLIENT_RELEASED' }))
      expect(() => client.once('notice', () => heard.push('late once'))).toThrow(expect.objectContaining({ code: 'CLIENT_RELEASED' }))
    })
    await withTenant(B(), async () => {
      const client = await single.connect()
      try {
        client.on('notice', () => heard.push('B'))
        await client.query(NOTICE)
      } finally {
        client.release()
      }
    })
    expect(heard).toEqual(['B'])
  })

  test('off() removes a listener added with on() or once(), and a once() listener runs once', async () => {
    const heard: string[] = []
    await withTenant(B(), async () => {
      const client = await single.connect()
      try {
        const removed = () => heard.push('removed')
        client.on('notice', removed)
        client.once('notice', () => heard.push('once'))
        const removedOnce = () => heard.push('removed once')
        client.once('notice', removedOnce)
        client.off('notice', removed)
        client.removeListener('notice', removedOnce)
        await client.query(NOTICE)
        await client.query(NOTICE)
      } finally {
        client.release()
      }
    })
    expect(heard).toEqual(['once'])
  })

  // pg-pool calls back from whichever socket event freed a connection: the
  // reply to another request's statement. A tracer or a logger that wraps
  // client.query reads its own AsyncLocalStorage there, and must see the
  // request that made the query, not the one whose reply freed the
  // connection (nor the one that opened it).
  test("pool.query sends its statement in the caller's whole async context: a hook on client.query reads its own storage's request", async () => {
    const requests = new AsyncLocalStorage<number>()
    const seen = new Map<string, { request: number | undefined; tenant: string | undefined }>()
    const pool = createTenantPool({ connectionString: fixture.db.appUrl, max: 2 })
    pool.unscopedPool.on('connect', (client) => {
      const query = client.query
      client.query = function (this: pg.Client, config: unknown, ...rest: unknown[]) {
        const text = typeof config === 'string' ? config : (config as { text?: string }).text
        if (text !== undefined) seen.set(text, { request: requests.getStore(), tenant: tryGetTenantId() })
        return (query as (...args: unknown[]) => unknown).call(this, config, ...rest)
      } as typeof client.query
    })
    try {
      const tenantOf = (request: number) => (request % 2 ? B() : A())
      // Twenty requests on two connections: most statements are sent from another request's reply.
      const texts = Array.from({ length: 20 }, (_, request) => `SELECT ${request} AS request`)
      await Promise.all(texts.map((text, request) => requests.run(request, () => withTenant(tenantOf(request), () => pool.query(text)))))
      expect(texts.map((text) => seen.get(text))).toEqual(texts.map((_, request) => ({ request, tenant: tenantOf(request) })))
    } finally {
      await pool.end()
    }
  })
})
