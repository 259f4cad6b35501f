import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createTenantPool, withTenant } from '@tenantscope/core'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { useFixture } from './_fixtures.js'

// A full garbage collection on demand, without starting Node with --expose-gc.
setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void

describe('a finished query keeps nothing alive', () => {
  const fixture = useFixture()
  let raw: pg.Pool
  // What tenantscope hands the wrapped pool and its clients: the checkout
  // callback (the pool.query in progress) and the query objects pg runs.
  const held: unknown[] = []

  beforeAll(() => {
    raw = new pg.Pool({ connectionString: fixture.db.appUrl, max: 1 })
    const connect = raw.connect.bind(raw) as (callback?: unknown) => unknown
    raw.connect = ((callback?: unknown) => {
      if (typeof callback === 'function') held.push(callback)
      return connect(callback)
    }) as typeof raw.connect
    raw.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown
      client.query = ((config: unknown, ...rest: unknown[]) => {
        if (typeof (config as { submit?: unknown } | null)?.submit === 'function') held.push(config)
        return query(config, ...rest)
      }) as typeof client.query
    })
  })
  afterAll(() => raw?.end())

  // V8's minor GC keeps young objects alive from any old object, dead or
  // not: a finished query object that still held its result would keep the
  // rows alive until the next full GC (measured: pg's rows arrays then get
  // allocated in the old generation for good). Held here on purpose, they
  // must not keep the result.
  test('pool.query: neither the checkout callback nor the query object pg ran holds the result', async () => {
    const pool = createTenantPool(raw)
    const result = await weakResult(() => withTenant(fixture.tenantA, () => pool.query('SELECT g FROM generate_series(1, 50) AS g')))
    expect(held.some((each) => typeof each === 'function')).toBe(true)
    expect(held.some((each) => typeof (each as { submit?: unknown }).submit === 'function')).toBe(true)
    await new Promise((resolve) => setImmediate(resolve)) // a WeakRef keeps its target until the job ends
    collectGarbage()
    expect(result.deref()).toBeUndefined()
  })
})

// The result, checked, then only weakly referenced.
async function weakResult(run: () => Promise<pg.QueryResult>): Promise<WeakRef<pg.QueryResult>> {
  const result = await run()
  expect(result.rows).toHaveLength(50)
  return new WeakRef(result)
}
