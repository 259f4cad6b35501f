import { describe, expect, test } from 'vitest'
import { literalOpening } from '../../src/tenant-opening.js'

describe('literalOpening', () => {
  const opening = literalOpening('app.current_tenant')

  test('writes ids that need no escaping as a literal, the setting name quoted', () => {
    expect(opening('0b6f0d6e-3f4a-4c1e-9b7a-2f1d5c8e9a10')).toBe(
      `BEGIN; SET LOCAL "app"."current_tenant" = '0b6f0d6e-3f4a-4c1e-9b7a-2f1d5c8e9a10'`,
    )
    expect(opening('9223372036854775807')).toBe(`BEGIN; SET LOCAL "app"."current_tenant" = '9223372036854775807'`)
    expect(opening('acme-eu.2:team@x+y_z')).toBeDefined()
  })

  test('refuses every id with a byte that a literal could read differently: those are bound instead', () => {
    for (const id of ["o'brien", 'a\\b', "x'; DROP TABLE projects; --", 'é', 'a b', 'a\nb', 'a\0b', '"', '$$', '', 'x'.repeat(201)]) {
      expect(opening(id)).toBeUndefined()
    }
  })
})
