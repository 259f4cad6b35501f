import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createTenantPool, setConfigSetter, type TenantPool, type TenantPoolClient, type TenantSetter, withTenant } from '@tenantscope/core'
import type pg from 'pg'
import { from as copyFrom, to as copyTo } from 'pg-copy-streams'
import Cursor from 'pg-cursor'
import QueryStream from 'pg-query-stream'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { useFixture } from './_fixtures.js'

// Where a query object can run on a client from pool.connect(): outside a
// transaction, as the first statement after BEGIN (it carries the setter),
// and later in the transaction (it does not).
type Position = 'outside a transaction' | 'first after BEGIN' | 'later in a transaction'
const POSITIONS: Position[] = ['outside a transaction', 'first after BEGIN', 'later in a transaction']

async function inPosition<T>(client: TenantPoolClient, position: Position, run: () => Promise<T>): Promise<T> {
  if (position === 'outside a transaction') return run()
  await client.query('BEGIN')
  if (position === 'later in a transaction') await client.query('SELECT 1')
  const result = await run()
  await client.query('COMMIT')
  return result
}

async function drain(readable: Readable): Promise<string> {
  const chunks: Buffer[] = []
  await pipeline(
    readable,
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk)
        done()
      },
    }),
  )
  return Buffer.concat(chunks).toString()
}

describe('COPY (pg-copy-streams), pg-query-stream and cursors on a client', () => {
  const fixture = useFixture()
  const A = () => fixture.tenantA
  const B = () => fixture.tenantB
  let pool: TenantPool

  beforeAll(async () => {
    await fixture.admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'a1'), ($1, 'a2'), ($2, 'b1')`, [A(), B()])
    pool = createTenantPool({ connectionString: fixture.db.appUrl, max: 2 })
  })
  afterAll(() => pool?.end())

  const asTenant = <T>(tenant: string, use: (client: TenantPoolClient) => Promise<T>) =>
    withTenant(tenant, async () => {
      const client = await pool.connect()
      try {
        return await use(client)
      } finally {
        client.release()
      }
    })

  test.each(POSITIONS)('COPY (SELECT ...) TO STDOUT returns the tenant’s rows only, %s', async (position) => {
    const text = await asTenant(A(), (client) =>
      inPosition(client, position, () => drain(client.query(copyTo('COPY (SELECT name FROM projects ORDER BY name) TO STDOUT')))),
    )
    expect(text).toBe('a1\na2\n')
  })

  test.each(POSITIONS)('COPY table TO STDOUT goes through RLS too, %s', async (position) => {
    const text = await asTenant(B(), (client) =>
      inPosition(client, position, () => drain(client.query(copyTo('COPY projects (name) TO STDOUT')))),
    )
    expect(text).toBe('b1\n')
  })

  // PostgreSQL refuses COPY FROM into a table with row-level security: load a
  // staging table, then INSERT ... SELECT, where the policy's WITH CHECK applies.
  const STAGING = `CREATE TEMP TABLE IF NOT EXISTS staging (
    tenant_id uuid DEFAULT NULLIF(current_setting('app.current_tenant', true), '')::uuid, name text)`

  test.each(POSITIONS)(
    'COPY FROM STDIN runs for the tenant (a default reads the setting), and WITH CHECK guards the INSERT after it, %s',
    async (position) => {
      const name = `copied ${position}`
      const staged = await asTenant(B(), async (client) => {
        await client.query(STAGING)
        await inPosition(client, position, async () => {
          await pipeline(Readable.from([`${name}\n`]), client.query(copyFrom('COPY staging (name) FROM STDIN')))
          await client.query('INSERT INTO projects (tenant_id, name) SELECT tenant_id, name FROM staging')
        })
        return (await client.query('SELECT tenant_id, name FROM staging')).rows
      })
      expect(staged).toEqual([{ tenant_id: B(), name }])
      expect((await fixture.admin.query('SELECT tenant_id FROM projects WHERE name = $1', [name])).rows).toEqual([{ tenant_id: B() }])
      // Rows that name another tenant: the policy's WITH CHECK refuses them (42501).
      const refused = await asTenant(B(), async (client) => {
        await client.query(STAGING)
        return inPosition(client, position, async () => {
          await pipeline(Readable.from([`${A()}\tforged\n`]), client.query(copyFrom('COPY staging (tenant_id, name) FROM STDIN')))
          await client.query('INSERT INTO projects (tenant_id, name) SELECT tenant_id, name FROM staging')
        }).catch((error: { code?: string }) => error.code)
      })
      expect(refused).toBe('42501')
      expect((await fixture.admin.query(`SELECT count(*)::int AS n FROM projects WHERE name = 'forged'`)).rows[0].n).toBe(0)
    },
  )

  test('COPY FROM straight into a table with RLS: PostgreSQL refuses it (0A000), and the client goes on', async () => {
    await asTenant(B(), async (client) => {
      await expect(pipeline(Readable.from(['x\n']), client.query(copyFrom('COPY projects (name) FROM STDIN')))).rejects.toMatchObject({
        code: '0A000',
      })
      expect((await client.query('SELECT count(*)::int AS n FROM projects WHERE tenant_id <> $1', [B()])).rows).toEqual([{ n: 0 }])
    })
  })

  test.each(POSITIONS)('pg-query-stream streams the tenant’s rows, %s', async (position) => {
    const rows = await asTenant(A(), (client) =>
      inPosition(client, position, async () => {
        const names: string[] = []
        for await (const row of client.query(new QueryStream('SELECT name FROM projects ORDER BY name', [], { batchSize: 1 }))) {
          names.push((row as { name: string }).name)
        }
        return names
      }),
    )
    expect(rows).toEqual(['a1', 'a2'])
  })

  test.each(POSITIONS)('a cursor reads the tenant’s rows, %s', async (position) => {
    const rows = await asTenant(B(), (client) =>
      inPosition(client, position, async () => {
        const cursor = client.query(new Cursor('SELECT DISTINCT tenant_id FROM projects'))
        const read = await cursor.read(10)
        await cursor.close()
        return read
      }),
    )
    expect(rows).toEqual([{ tenant_id: B() }])
  })

  test('a pg-query-stream whose statement fails errors the stream, and the connection goes on', async () => {
    await asTenant(A(), async (client) => {
      const stream = client.query(new QueryStream('SELECT 1/0'))
      await expect(drain(stream as unknown as Readable)).rejects.toMatchObject({ code: '22012' })
      expect((await client.query('SELECT count(*)::int AS n FROM projects')).rows).toEqual([{ n: 2 }])
    })
  })
})

// A setter that fails ahead of a query object: the query object gets the
// error, the connection is left idle, and nobody waits for ever.
describe('a failed setter ahead of a query object', () => {
  const fixture = useFixture()
  const A = () => fixture.tenantA
  let failing = false
  let slow = false
  const flaky: TenantSetter = (settings) =>
    failing
      ? { text: 'SELECT tenantscope_no_such_setter($1, $2)', values: settings.flat() }
      : slow
        ? { text: 'SELECT set_config($1, $2, true), pg_sleep(30)', values: settings.flat() }
        : setConfigSetter(settings)
  let single: TenantPool

  beforeAll(async () => {
    await fixture.admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'a1')`, [A()])
    single = createTenantPool({ connectionString: fixture.db.appUrl, max: 1 }, { setter: flaky, prepareSetter: false })
  })
  afterAll(() => single?.end())

  // Each borrower after the failure must get its answer: bounded by vi.waitUntil, never a hang.
  const nextBorrowerReads = async () => {
    failing = false
    let rows: unknown
    const read = withTenant(A(), () => single.query('SELECT name FROM projects')).then(
      (result) => (rows = result.rows),
      (error: unknown) => (rows = error),
    )
    await vi.waitUntil(() => rows !== undefined, { timeout: 5_000, interval: 20 })
    await read
    return rows
  }

  const failingSetter = async <T>(use: (client: TenantPoolClient) => Promise<T>): Promise<T> =>
    withTenant(A(), async () => {
      failing = true
      // A fresh context: the setter is built (and so fails) once per context.
      const client = await withTenant(A(), () => single.connect())
      try {
        return await withTenant(A(), () => use(client))
      } finally {
        client.release()
      }
    })

  test('COPY FROM: the copy stream errors (42883), and the next borrowers are served', async () => {
    const error = await failingSetter((client) =>
      pipeline(Readable.from(['x\n']), client.query(copyFrom('COPY projects (name) FROM STDIN'))).catch((e: unknown) => e),
    )
    expect(error).toMatchObject({ code: '42883' })
    expect(await nextBorrowerReads()).toEqual([{ name: 'a1' }])
    expect(await nextBorrowerReads()).toEqual([{ name: 'a1' }])
  })

  test('COPY TO: the copy stream errors (42883), and the next borrowers are served', async () => {
    const error = await failingSetter((client) => drain(client.query(copyTo('COPY projects (name) TO STDOUT'))).catch((e: unknown) => e))
    expect(error).toMatchObject({ code: '42883' })
    expect(await nextBorrowerReads()).toEqual([{ name: 'a1' }])
  })

  test('a cursor and a query stream get the error; the same client goes on', async () => {
    await failingSetter(async (client) => {
      await expect(client.query(new Cursor('SELECT 1')).read(1)).rejects.toMatchObject({ code: '42883' })
      await expect(drain(client.query(new QueryStream('SELECT 1')) as unknown as Readable)).rejects.toMatchObject({ code: '42883' })
      failing = false
      expect((await withTenant(A(), () => client.query('SELECT name FROM projects'))).rows).toEqual([{ name: 'a1' }])
    })
    expect(await nextBorrowerReads()).toEqual([{ name: 'a1' }])
  })

  test('an extra setting PostgreSQL rejects, ahead of COPY FROM: an error, and no borrower hangs', async () => {
    failing = false
    const error = await withTenant(
      A(),
      async () => {
        const client = await single.connect()
        try {
          // Loads plpgsql, which then validates its settings (until then they are placeholders).
          await client.query('DO $$ BEGIN END $$')
          return await pipeline(Readable.from(['x\n']), client.query(copyFrom('COPY projects (name) FROM STDIN'))).catch((e: unknown) => e)
        } finally {
          client.release()
        }
      },
      { settings: { 'plpgsql.variable_conflict': 'no such value' } },
    )
    // A superuser-only setting: permission denied (42501).
    expect(error).toMatchObject({ code: '42501' })
    expect(await nextBorrowerReads()).toEqual([{ name: 'a1' }])
  })

  test('a query in portal mode (rows) that fails leaves no Sync on the wire: its connection is destroyed, the next borrower served', async () => {
    failing = false
    const portal = { text: 'SELECT 1/0', rows: 1 } as pg.QueryConfig
    await expect(withTenant(A(), () => single.query(portal))).rejects.toMatchObject({ code: '22012' })
    expect(await nextBorrowerReads()).toEqual([{ name: 'a1' }])
    await withTenant(A(), async () => {
      const client = await single.connect()
      try {
        await expect(client.query(portal)).rejects.toMatchObject({ code: '22012' })
      } finally {
        client.release()
      }
    })
    expect(await nextBorrowerReads()).toEqual([{ name: 'a1' }])
  })

  test('a cancel that lands on the setter ahead of COPY FROM: the copy stream errors (57014), and no borrower hangs', async () => {
    failing = false
    slow = true
    const copied = withTenant(A(), async () => {
      const client = await single.connect()
      try {
        return await pipeline(Readable.from(['x\n']), client.query(copyFrom('COPY projects (name) FROM STDIN'))).catch((e: unknown) => e)
      } finally {
        client.release()
      }
    })
    const sleeping = `SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()`
    await expect.poll(async () => (await fixture.admin.query(sleeping)).rows.length).toBe(1)
    slow = false
    await fixture.admin.query(`SELECT pg_cancel_backend(pid) FROM (${sleeping}) s`)
    expect(await copied).toMatchObject({ code: '57014' })
    expect(await nextBorrowerReads()).toEqual([{ name: 'a1' }])
  })

  test('a query_timeout that fires during the setter fails the query object, which is then never sent', async () => {
    failing = false
    slow = true
    try {
      await withTenant(A(), async () => {
        const client = await single.connect()
        try {
          const cursor = client.query(Object.assign(new Cursor('SELECT name FROM projects'), { query_timeout: 100 }))
          await expect(cursor.read(1)).rejects.toThrow(/timeout/i)
        } finally {
          client.release()
        }
      })
    } finally {
      slow = false
    }
    expect(await nextBorrowerReads()).toEqual([{ name: 'a1' }])
  })
})
