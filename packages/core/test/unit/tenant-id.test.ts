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

describe('a rejected id is never repeated, in a message or a cause', () => {
  // A custom parser whose error repeats the id, as many do.
  const ID = 'tenant-secret-id-42'
  const loud = (raw: string) => {
    throw new Error(`unknown tenant ${raw}`)
  }
  const repeats = (error: unknown): boolean => {
    for (let current = error; current instanceof Error; current = current.cause) {
      if (current.message.includes(ID) || String(current.stack).includes(ID)) return true
    }
    return false
  }

  test('tenantPayload, readJobTenant, tenantJob and the HTTP resolvers keep no cause', async () => {
    const { withTenant } = await import('@tenantscope/core')
    const { readJobTenant, tenantJob, tenantPayload } = await import('@tenantscope/core/jobs')
    const { resolveRequestTenant } = await import('@tenantscope/core/http')
    const errors: unknown[] = []
    errors.push(await withTenant(ID, () => tenantPayload({}, { parseTenantId: loud })).catch((e: unknown) => e))
    try {
      readJobTenant({ tenantId: ID }, { parseTenantId: loud })
    } catch (error) {
      errors.push(error)
    }
    errors.push(await tenantJob(async () => undefined, { parseTenantId: loud })({ data: { tenantId: ID } }).catch((e: unknown) => e))
    expect(await resolveRequestTenant({ resolveTenant: () => ID, parseTenantId: loud }, {})).toMatchObject({ ok: false, status: 400 })
    expect(errors).toHaveLength(3)
    for (const error of errors) {
      expect(error).toBeInstanceOf(Error)
      expect((error as Error).cause).toBeUndefined()
      expect(repeats(error)).toBe(false)
    }
  })
})
