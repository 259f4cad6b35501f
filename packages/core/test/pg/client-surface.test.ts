// The client from pool.connect() offers at run time exactly what its type
// names: every public member of TenantPoolClient, listed here, exists; the
// list is checked against the type at compile time (pnpm typecheck).
import { createTenantPool, type TenantPoolClient, withTenant } from '@tenantscope/core'
import { describe, expect, expectTypeOf, test } from 'vitest'
import { useFixture } from './_fixtures.js'

const members = [
  'tenantId',
  'query',
  'on',
  'once',
  'off',
  'removeListener',
  'release',
  'escapeIdentifier',
  'escapeLiteral',
] as const satisfies readonly (keyof TenantPoolClient)[]

describe('the client type matches the client', () => {
  const f = useFixture()

  test('every member the type names is there at run time', async () => {
    // _begin and _commit are @internal: in the source's type, stripped from the published one.
    expectTypeOf<Exclude<keyof TenantPoolClient, (typeof members)[number] | '_begin' | '_commit'>>().toBeNever()
    const pool = createTenantPool({ connectionString: f.db.appUrl, max: 1 })
    try {
      await withTenant(f.tenantA, async () => {
        const client = await pool.connect()
        try {
          for (const member of members) expect(client[member], member).toBeDefined()
          expect(client.tenantId).toBe(f.tenantA)
          expect(client.escapeIdentifier('a"b')).toBe('"a""b"')
        } finally {
          client.release()
        }
      })
    } finally {
      await pool.end()
    }
  })
})
