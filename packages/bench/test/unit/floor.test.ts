import { createRequire } from 'node:module'
import { describe, expect, test } from 'vitest'
import { SETTER_NAME, setterMessages } from '../../src/floor.js'

// The floor stands for tenantscope's pipeline: its hand-serialised setter
// messages must be byte for byte what pg's own serializer (which tenantscope
// writes through) makes of the same Bind and Execute.
const requireFromPg = createRequire(createRequire(import.meta.url).resolve('pg'))
const { serialize } = requireFromPg('pg-protocol') as {
  serialize: { bind(config: { statement: string; values: string[] }): Buffer; execute(config: object): Buffer }
}

describe('the floor', () => {
  test.each(['0462b5d4-86a5-4401-9b23-55548ebcefe7', 'tenant-ü', ''])('writes the setter as pg would (tenant %j)', (tenantId) => {
    const expected = Buffer.concat([
      serialize.bind({ statement: SETTER_NAME, values: ['app.current_tenant', tenantId] }),
      serialize.execute({}),
    ])
    expect(setterMessages(tenantId).equals(expected)).toBe(true)
  })

  test("names its setter as long as tenantscope's named setter (tenantscope_ and 32 hex digits)", () => {
    expect(SETTER_NAME).toHaveLength('tenantscope_'.length + 32)
  })
})
