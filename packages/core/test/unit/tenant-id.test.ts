import { bigintTenantId, textTenantId, uuidTenantId } from '@tenantscope/core'
import { badTenantIds } from '@tenantscope/test-harness'
import { describe, expect, test } from 'vitest'

describe('tenant id parsers', () => {
  test('uuidTenantId accepts canonical UUIDs and lower-cases them', () => {
    expect(uuidTenantId('AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE')).toBe('aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee')
    expect(uuidTenantId('00000000-0000-0000-0000-000000000000')).toBe('00000000-0000-0000-0000-000000000000')
  })

  test('uuidTenantId rejects injections, lookalikes, padding and other forms', () => {
    for (const bad of badTenantIds.filter((id): id is string => typeof id === 'string')) {
      expect(() => uuidTenantId(bad), JSON.stringify(bad).slice(0, 60)).toThrow()
    }
  })

  test('textTenantId takes slugs only', () => {
    expect(textTenantId('acme_42-eu')).toBe('acme_42-eu')
    for (const bad of ['', '-acme', 'acme corp', "acme'--", 'a'.repeat(64), 'аcme' /* Cyrillic a */]) {
      expect(() => textTenantId(bad)).toThrow()
    }
  })

  test('bigintTenantId takes positive integers that fit a bigint', () => {
    expect(bigintTenantId('0')).toBe('0')
    expect(bigintTenantId('9223372036854775807')).toBe('9223372036854775807')
    for (const bad of ['-1', '01', '1.5', '9223372036854775808', '1e3', ' 1', '１']) {
      expect(() => bigintTenantId(bad)).toThrow()
    }
  })
})
