import { createTenantPool, withTenant } from '@tenantscope/core'
import pg from 'pg'
import type { BenchDatabase } from './database.js'
import { medianRatio, rotation, type Sample } from './runner.js'
import type { Tenant } from './seed.js'

export interface BreakdownRow {
  name: string
  label: string
  microseconds: number
  /** CPU time of this (client) process per query: the rest of the wall time is PostgreSQL's and waiting. */
  clientCpuMicroseconds: number
  ratio: number
}

const POINT = 'SELECT id, name, owner_id, created_at FROM projects WHERE id = $1'
const RAW_POINT = 'SELECT id, name, owner_id, created_at FROM projects WHERE tenant_id = $1 AND id = $2'

/**
 * Where the loopback cost of a scoped point read goes, one connection, one
 * tenant, each step adding one piece: raw pg; the same statement under RLS
 * with the tenant already on the session (the policy's planning and InitPlan,
 * no setter; not a safe pattern, a measurement); withTenant around raw pg;
 * tenantscope; tenantscope with prepareSetter.
 */
export async function runBreakdown(database: BenchDatabase, tenants: readonly Tenant[], options: { sliceMs: number; rounds: number }): Promise<BreakdownRow[]> {
  const tenant = tenants[0]!
  const ids = tenant.projectIds
  let next = 0
  const id = () => ids[next++ % ids.length]!
  const raw = new pg.Pool({ connectionString: database.maintenanceUrl, max: 1 })
  const rls = new pg.Pool({ connectionString: database.appUrl, max: 1 })
  const app = new pg.Pool({ connectionString: database.appUrl, max: 1 })
  const prepared = new pg.Pool({ connectionString: database.appUrl, max: 1 })
  try {
    const session = await rls.connect()
    await session.query(`SELECT set_config('app.current_tenant', $1, false)`, [tenant.id])
    session.release()
    const scoped = createTenantPool(app)
    const scopedPrepared = createTenantPool(prepared, { prepareSetter: true })
    const steps: Array<{ name: string; label: string; run: () => Promise<unknown> }> = [
      { name: 'raw', label: 'raw pg, BYPASSRLS, explicit tenant_id', run: () => raw.query(RAW_POINT, [tenant.id, id()]) },
      { name: 'rls', label: 'same statement under RLS, tenant already on the session (no setter)', run: () => rls.query(POINT, [id()]) },
      { name: 'withTenant', label: 'raw pg inside withTenant (AsyncLocalStorage only)', run: () => withTenant(tenant.id, () => raw.query(RAW_POINT, [tenant.id, id()])) },
      { name: 'tenantscope', label: 'tenantscope (RLS + setter in the pipeline + withTenant)', run: () => withTenant(tenant.id, () => scoped.query(POINT, [id()])) },
      { name: 'tenantscope-prepared', label: 'tenantscope, prepareSetter: true', run: () => withTenant(tenant.id, () => scopedPrepared.query(POINT, [id()])) },
    ]
    const samples = new Map<string, Sample[]>()
    const cpu = new Map<string, number>()
    for (const step of steps) await slice(step.run, options.sliceMs / 2)
    for (let round = 0; round < options.rounds; round++) {
      for (const step of rotation(steps, round)) {
        const before = process.cpuUsage()
        const sample = await slice(step.run, options.sliceMs)
        const used = process.cpuUsage(before)
        cpu.set(step.name, (cpu.get(step.name) ?? 0) + used.user + used.system)
        samples.set(step.name, [...(samples.get(step.name) ?? []), sample])
      }
    }
    return steps.map((step) => {
      const mine = samples.get(step.name) ?? []
      const operations = mine.reduce((sum, sample) => sum + sample.operations, 0)
      const elapsed = mine.reduce((sum, sample) => sum + sample.elapsedMs, 0)
      return {
        name: step.name,
        label: step.label,
        microseconds: (elapsed * 1000) / operations,
        clientCpuMicroseconds: (cpu.get(step.name) ?? 0) / operations,
        ratio: medianRatio(mine, samples.get('raw') ?? []),
      }
    })
  } finally {
    await Promise.all([raw.end(), rls.end(), app.end(), prepared.end()])
  }
}

async function slice(run: () => Promise<unknown>, durationMs: number): Promise<Sample> {
  const start = performance.now()
  let operations = 0
  while (performance.now() - start < durationMs) {
    await run()
    operations++
  }
  return { operations, elapsedMs: performance.now() - start, latencies: [], errors: 0 }
}
