import { getTenantId, TenantScopeError, textTenantId, withTenant } from '@tenantscope/core'
import { JobTenantError, readJobTenant, sendTenantJob, tenantJob, tenantPayload } from '@tenantscope/core/jobs'
import { describe, expect, test } from 'vitest'

const A = '11111111-1111-4111-8111-111111111111'
const B = '22222222-2222-4222-8222-222222222222'

describe('tenantPayload', () => {
  test('stamps the current tenant onto the payload', async () => {
    expect(await withTenant(A.toUpperCase(), () => tenantPayload({ month: '2026-11' }))).toEqual({ month: '2026-11', tenantId: A })
  })

  test('outside withTenant it throws TENANT_CONTEXT_MISSING', () => {
    expect(() => tenantPayload({})).toThrow(expect.objectContaining({ code: 'TENANT_CONTEXT_MISSING' }))
  })

  test('a payload naming another tenant is refused (TENANT_MISMATCH)', async () => {
    await expect(withTenant(A, () => tenantPayload({ tenantId: B }))).rejects.toSatisfy((e) => TenantScopeError.is(e, 'TENANT_MISMATCH'))
  })

  test('a malformed current tenant is refused before anything is enqueued', async () => {
    await expect(withTenant('acme', () => tenantPayload({}))).rejects.toSatisfy((e) => TenantScopeError.is(e, 'INVALID_TENANT_ID'))
    expect(await withTenant('acme', () => tenantPayload({}, { parseTenantId: textTenantId, key: 'org' }))).toEqual({ org: 'acme' })
  })

  test('sendTenantJob sends the stamped payload, and nothing outside a tenant', async () => {
    const sent: unknown[] = []
    const boss = { send: async (name: string, data: object, options?: unknown) => (sent.push([name, data, options]), 'job-1') }
    expect(await withTenant(A, () => sendTenantJob(boss, 'report', { month: '11' }, { retryLimit: 1 }))).toBe('job-1')
    await expect(sendTenantJob(boss, 'report', {})).rejects.toSatisfy((e) => TenantScopeError.is(e, 'TENANT_CONTEXT_MISSING'))
    expect(sent).toEqual([['report', { month: '11', tenantId: A }, { retryLimit: 1 }]])
  })
})

describe('tenantJob', () => {
  test('runs the handler inside withTenant for the payload tenant', async () => {
    const handler = tenantJob(async (job: { data: { tenantId: string; n: number } }) => `${getTenantId()}:${job.data.n}`)
    expect(await handler({ data: { tenantId: A, n: 1 } })).toBe(`${A}:1`)
  })

  test.each([
    ['no tenant', { n: 1 }, 'JOB_TENANT_MISSING'],
    ['an empty tenant', { tenantId: '' }, 'JOB_TENANT_MISSING'],
    ['a number', { tenantId: 42 }, 'JOB_TENANT_INVALID'],
    ['a malformed id', { tenantId: "1' OR '1'='1" }, 'JOB_TENANT_INVALID'],
    ['no payload', null, 'JOB_PAYLOAD_INVALID'],
  ])('a job with %s fails clearly and the handler never runs', async (_label, data, code) => {
    let ran = false
    const handler = tenantJob(async () => {
      ran = true
    })
    const error = await handler({ data }).catch((e: unknown) => e)
    expect(JobTenantError.is(error, code as never)).toBe(true)
    expect(String((error as Error).message)).not.toContain("1' OR")
    expect(ran).toBe(false)
  })

  test('outside the handler no tenant leaks', async () => {
    await tenantJob(async () => undefined)({ data: { tenantId: A } })
    expect(() => getTenantId()).toThrow()
  })

  test('a pg-boss batch: every tenant is checked first, then each job runs in its own tenant', async () => {
    const seen: string[] = []
    const handler = tenantJob(async (job: { data: { tenantId?: string } }) => {
      seen.push(getTenantId())
      return job.data.tenantId
    })
    expect(await handler([{ data: { tenantId: A } }, { data: { tenantId: B } }])).toEqual([A, B])
    expect(seen).toEqual([A, B])
    seen.length = 0
    await expect(handler([{ data: { tenantId: A } }, { data: {} }])).rejects.toSatisfy((e) => JobTenantError.is(e, 'JOB_TENANT_MISSING'))
    expect(seen).toEqual([])
  })

  test('readJobTenant with a custom key and parser', () => {
    expect(readJobTenant({ org: 'acme' }, { key: 'org', parseTenantId: textTenantId })).toBe('acme')
    expect(() => readJobTenant({ org: 'acme' })).toThrow(JobTenantError)
  })
})

describe('JobTenantError', () => {
  test('is a TenantScopeError, so one catch covers every refusal', async () => {
    const handler = tenantJob(async () => 'ran')
    const error = await handler({ data: {} } as never).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(JobTenantError)
    expect(error).toBeInstanceOf(TenantScopeError)
    expect(TenantScopeError.is(error, 'JOB_TENANT_MISSING')).toBe(true)
    expect(JobTenantError.is(error, 'JOB_TENANT_MISSING')).toBe(true)
    expect((error as Error).name).toBe('JobTenantError')
  })
})
