// Clients that cannot carry the setter are refused with INVALID_CONFIG,
// at construction where the options say so, else at the first checkout:
// never a pg error on every query, never a statement without the setter.
import { createTenantPool, TenantScopeError, withTenant } from '@tenantscope/core'
import pg from 'pg'
import { describe, expect, test } from 'vitest'
import { useFixture } from './_fixtures.js'

const isInvalidConfig = (error: unknown) => TenantScopeError.is(error, 'INVALID_CONFIG')

describe('clients that cannot carry the setter', () => {
  const f = useFixture()

  test("pg's pipeline mode is refused at construction, from a config or from a pool's options", async () => {
    expect(() => createTenantPool({ connectionString: f.db.appUrl, pipeline: true } as pg.PoolConfig)).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    )
    const raw = new pg.Pool({ connectionString: f.db.appUrl, max: 1, pipeline: true } as pg.PoolConfig)
    try {
      expect(() => createTenantPool(raw)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
    } finally {
      await raw.end()
    }
  })

  test('a client class that turns pipeline mode on is refused at checkout, and nothing runs', async () => {
    class PipelineClient extends pg.Client {
      constructor(config?: pg.ClientConfig) {
        super({ ...config, pipeline: true } as pg.ClientConfig)
      }
    }
    const pool = createTenantPool(new pg.Pool({ connectionString: f.db.appUrl, max: 1, Client: PipelineClient }))
    try {
      await expect(withTenant(f.tenantA, () => pool.query('SELECT 1'))).rejects.toSatisfy(isInvalidConfig)
      await expect(withTenant(f.tenantA, () => pool.connect())).rejects.toSatisfy(isInvalidConfig)
    } finally {
      await pool.end()
    }
  })

  test('a pg older than 8.12 (its Query cannot be switched to the extended protocol) is refused', async () => {
    // As in pg before 8.12: Query has no queryMode, so a statement without
    // parameters would leave by the simple protocol, outside the setter's pipeline.
    class OldQuery extends pg.Query {
      constructor(...args: ConstructorParameters<typeof pg.Query>) {
        super(...args)
        delete (this as { queryMode?: unknown }).queryMode
      }
    }
    class OldClient extends pg.Client {
      static Query = OldQuery
    }
    const pool = createTenantPool(new pg.Pool({ connectionString: f.db.appUrl, max: 1, Client: OldClient }))
    try {
      await expect(withTenant(f.tenantA, () => pool.query('SELECT 1'))).rejects.toSatisfy(isInvalidConfig)
    } finally {
      await pool.end()
    }
  })
})
