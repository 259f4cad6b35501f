import { createTenantPool, type TenantPool, type TenantPoolClient } from '@tenantscope/core'
import type pg from 'pg'
import { describe, expectTypeOf, test } from 'vitest'

// Compiled by `tsc --noEmit` (pnpm typecheck): a type error fails CI.
describe('TenantPool types', () => {
  test('a TenantPool is assignable wherever a pg.Pool is typed', () => {
    expectTypeOf<TenantPool>().toExtend<pg.Pool>()
    const usePool = (pool: pg.Pool) => pool
    const pool = createTenantPool({ max: 1 })
    usePool(pool)
    void pool.end()
  })

  test('query results keep their row types', () => {
    type Row = { id: string }
    expectTypeOf<TenantPool['query']>().toBeFunction()
    const run = (pool: TenantPool) => pool.query<Row>('SELECT id FROM tenants')
    expectTypeOf(run).returns.resolves.toEqualTypeOf<pg.QueryResult<Row>>()
  })

  test('connect() is typed as the client it returns: a TenantPoolClient, without what pg.PoolClient has and it has not', () => {
    const connect = (pool: TenantPool) => pool.connect()
    expectTypeOf(connect).returns.resolves.toEqualTypeOf<TenantPoolClient>()
    expectTypeOf<TenantPoolClient>().not.toHaveProperty('getTransactionStatus')
    expectTypeOf<TenantPoolClient>().not.toHaveProperty('setTypeParser')
    expectTypeOf<TenantPoolClient>().not.toHaveProperty('copyFrom')
    expectTypeOf<TenantPoolClient>().not.toHaveProperty('processID')
    expectTypeOf<TenantPoolClient>().not.toHaveProperty('connection')
    const withCallback = (pool: TenantPool) =>
      pool.connect((_error, client, done) => {
        expectTypeOf(client).toEqualTypeOf<TenantPoolClient | undefined>()
        done()
      })
    expectTypeOf(withCallback).toBeFunction()
  })
})
