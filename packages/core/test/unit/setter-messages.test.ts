import { createRequire } from 'node:module'
import { describe, expect, test } from 'vitest'
import { PreparedSetters } from '../../src/prepared-setter.js'
import { namedSetterMessages } from '../../src/setter-messages.js'

// The named setter's Bind and Execute are written as one buffer, serialised
// once per tenant: byte for byte what pg's own serializer (which pg's
// Connection#bind and #execute write through) makes of them.
const requireFromPg = createRequire(createRequire(import.meta.url).resolve('pg'))
const { serialize } = requireFromPg('pg-protocol') as {
  serialize: { bind(config: { statement: string; values: readonly string[] }): Buffer; execute(config: object): Buffer }
}
const pgWrites = (name: string, values: readonly string[]) =>
  Buffer.concat([serialize.bind({ statement: name, values }), serialize.execute({})])

describe('the named setter’s messages, serialised once', () => {
  test.each([
    ['the tenant alone', ['app.current_tenant', '0462b5d4-86a5-4401-9b23-55548ebcefe7']],
    ['a non-ASCII tenant', ['app.current_tenant', 'tenant-ü-東京']],
    ['an empty value', ['app.current_tenant', '']],
    ['extra settings', ['app.current_tenant', 'a', 'app.user_id', 'user 7', 'application_name', 'app tenant:a']],
  ] as const)('%s: as pg writes them', (_, values) => {
    const name = 'tenantscope_0123456789abcdef0123456789abcdef'
    expect(namedSetterMessages(name, values)!.equals(pgWrites(name, values))).toBe(true)
  })

  test('values that are not all strings are left to pg’s serializer', () => {
    expect(namedSetterMessages('n', ['app.current_tenant', 42])).toBeUndefined()
    expect(namedSetterMessages('n', ['app.current_tenant', null])).toBeUndefined()
  })

  test('one buffer per setter statement, each with its own tenant', () => {
    const setters = new PreparedSetters()
    const connection = {}
    const a = { text: 'SELECT set_config($1, $2, true)', values: ['app.current_tenant', 'a'] }
    const b = { text: 'SELECT set_config($1, $2, true)', values: ['app.current_tenant', 'b'] }
    const useA = setters.use(connection, a)!
    const useB = setters.use(connection, b)!
    expect(useA.messages(a)).toBe(useA.messages(a))
    expect(useA.messages(a)!.equals(pgWrites(useA.name, a.values))).toBe(true)
    expect(useB.messages(b)!.equals(pgWrites(useB.name, b.values))).toBe(true)
  })
})
