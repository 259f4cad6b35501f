import { MeterProvider, type MetricData, MetricReader } from '@opentelemetry/sdk-metrics'
import { createTenantPool, observeTenantPool, type TenantPool, withTenant } from '@tenantscope/core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { useFixture } from './_fixtures.js'

class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

// Per-tenant figures read back through the OpenTelemetry SDK's own reader.
describe('observeTenantPool (OpenTelemetry metrics)', () => {
  const fixture = useFixture()
  const A = () => fixture.tenantA
  const B = () => fixture.tenantB
  let pool: TenantPool
  beforeAll(async () => {
    pool = createTenantPool({ connectionString: fixture.db.appUrl, max: 2 }, { fairness: {}, stats: true })
    for (let i = 0; i < 3; i++) await withTenant(A(), () => pool.query('SELECT 1'))
    await withTenant(B(), () => pool.query('SELECT 1'))
    await withTenant(B(), () => pool.query('SELECT 1/0')).catch(() => undefined)
    await withTenant(B(), () => pool.transaction((tx) => tx.query('SELECT 2')))
  })
  afterAll(() => pool?.end())

  async function collect(tenant: boolean | 'sha256'): Promise<Map<string, MetricData>> {
    const reader = new CollectingReader()
    const provider = new MeterProvider({ readers: [reader] })
    const stop = observeTenantPool(pool, provider.getMeter('test'), { tenant })
    const { resourceMetrics } = await reader.collect()
    stop()
    await provider.shutdown()
    return new Map(resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).map((metric) => [metric.descriptor.name, metric]))
  }
  const points = (metric: MetricData | undefined) =>
    (metric?.dataPoints ?? []).map((point) => ({ attributes: point.attributes, value: point.value }))

  test('with the tenant attribute: statements and errors by SQLSTATE per tenant, grants per tenant', async () => {
    const metrics = await collect(true)
    expect(points(metrics.get('tenantscope.tenant.statements'))).toEqual(
      expect.arrayContaining([
        { attributes: { 'tenantscope.tenant.id': A() }, value: 3 },
        // 'SELECT 1', the failed one, and the transaction's statement and COMMIT.
        { attributes: { 'tenantscope.tenant.id': B() }, value: 4 },
      ]),
    )
    expect(points(metrics.get('tenantscope.tenant.errors'))).toEqual([
      { attributes: { 'tenantscope.tenant.id': B(), 'db.response.status_code': '22012' }, value: 1 },
    ])
    expect(points(metrics.get('tenantscope.tenant.connections.granted'))).toEqual(
      expect.arrayContaining([
        { attributes: { 'tenantscope.tenant.id': A() }, value: 3 },
        { attributes: { 'tenantscope.tenant.id': B() }, value: 3 },
      ]),
    )
    expect(points(metrics.get('tenantscope.tenant.connections.held'))).toEqual(
      expect.arrayContaining([{ attributes: { 'tenantscope.tenant.id': A() }, value: 0 }]),
    )
    expect(points(metrics.get('tenantscope.pool.connections'))).toEqual(
      expect.arrayContaining([{ attributes: { state: 'waiting' }, value: 0 }]),
    )
  })

  test('without it (the default): one series, summed over tenants, and no tenant id anywhere', async () => {
    const metrics = await collect(false)
    expect(points(metrics.get('tenantscope.tenant.statements'))).toEqual([{ attributes: {}, value: 7 }])
    expect(JSON.stringify([...metrics.values()])).not.toContain(A())
  })

  test("'sha256': a digest, never the id", async () => {
    const metrics = await collect('sha256')
    const ids = points(metrics.get('tenantscope.tenant.statements')).map((point) => point.attributes['tenantscope.tenant.id'])
    expect(ids).toHaveLength(2)
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{16}$/)
    expect(JSON.stringify([...metrics.values()])).not.toContain(B())
  })
})
