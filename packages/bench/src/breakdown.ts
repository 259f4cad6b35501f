import { createTenantPool, withTenant } from '@tenantscope/core'
import pg from 'pg'
import type { BenchDatabase } from './database.js'
import { medianRatio, rotation, runClosedLoop, type Sample } from './runner.js'
import type { Tenant } from './seed.js'

export interface BreakdownRow {
  name: string
  label: string
  concurrency: number
  microseconds: number
  /** CPU time of this (client) process per query: the rest of the wall time is PostgreSQL's and waiting. */
  clientCpuMicroseconds: number
  ratio: number
}

const POINT = 'SELECT id, name, owner_id, created_at FROM projects WHERE id = $1'
const RAW_POINT = 'SELECT id, name, owner_id, created_at FROM projects WHERE tenant_id = $1 AND id = $2'
const NO_OP = { text: 'SELECT 1', values: [] }

/**
 * Where the loopback cost of a scoped point read goes, one tenant, each step
 * adding one piece: raw pg; the same statement under RLS with the tenant
 * already on the session (the policy's planning and InitPlan, no setter: not
 * a safe pattern, the ceiling of any RLS design); the same with a no-op
 * statement ahead of it in one pipeline (the floor of any design that sets
 * the tenant transaction-locally in the same round trip); withTenant around raw pg;
 * tenantscope; tenantscope with the unnamed setter. Run at each of
 * `concurrencies` (that many workers over as many connections).
 */
export async function runBreakdown(
  database: BenchDatabase,
  tenants: readonly Tenant[],
  options: { sliceMs: number; rounds: number; concurrencies: readonly number[] },
): Promise<BreakdownRow[]> {
  const rows: BreakdownRow[] = []
  for (const concurrency of options.concurrencies) rows.push(...(await breakdownAt(database, tenants[0]!, concurrency, options)))
  return rows
}

async function breakdownAt(
  database: BenchDatabase,
  tenant: Tenant,
  concurrency: number,
  options: { sliceMs: number; rounds: number },
): Promise<BreakdownRow[]> {
  const ids = tenant.projectIds
  let next = 0
  const id = () => ids[next++ % ids.length]!
  const max = concurrency
  const raw = new pg.Pool({ connectionString: database.maintenanceUrl, max })
  // Every connection starts with the tenant on the session.
  const rls = new pg.Pool({ connectionString: database.appUrl, max, options: `-c app.current_tenant=${tenant.id}` })
  const rlsWithStatement = new pg.Pool({ connectionString: database.appUrl, max, options: `-c app.current_tenant=${tenant.id}` })
  const app = new pg.Pool({ connectionString: database.appUrl, max })
  const unnamedApp = new pg.Pool({ connectionString: database.appUrl, max })
  try {
    const scoped = createTenantPool(app)
    const unnamed = createTenantPool(unnamedApp, { prepareSetter: false })
    // The tenant is already on the session; the "setter" sets nothing. What
    // is left is the cost of a second statement in the pipeline itself.
    const noOpStatement = createTenantPool(rlsWithStatement, { setter: () => NO_OP })
    const steps: Array<{ name: string; label: string; run: () => Promise<unknown> }> = [
      { name: 'raw', label: 'raw pg, BYPASSRLS, explicit tenant_id', run: () => raw.query(RAW_POINT, [tenant.id, id()]) },
      { name: 'rls', label: 'same statement under RLS, tenant already on the session (no setter)', run: () => rls.query(POINT, [id()]) },
      {
        name: 'rls-statement',
        label:
          'same, plus a named no-op statement (`SELECT 1`) before it in the pipeline, via tenantscope: the floor of a one-round-trip, transaction-local setter',
        run: () => withTenant(tenant.id, () => noOpStatement.query(POINT, [id()])),
      },
      {
        name: 'withTenant',
        label: 'raw pg inside withTenant (AsyncLocalStorage only)',
        run: () => withTenant(tenant.id, () => raw.query(RAW_POINT, [tenant.id, id()])),
      },
      {
        name: 'tenantscope',
        label: 'tenantscope, default options (RLS + named setter in the pipeline + withTenant)',
        run: () => withTenant(tenant.id, () => scoped.query(POINT, [id()])),
      },
      {
        name: 'tenantscope-unnamed',
        label: 'tenantscope, prepareSetter: false (setter parsed on every query)',
        run: () => withTenant(tenant.id, () => unnamed.query(POINT, [id()])),
      },
    ]
    const samples = new Map<string, Sample[]>()
    const cpu = new Map<string, number>()
    for (const step of steps) await runClosedLoop(step.name, step.run, concurrency, options.sliceMs / 2)
    for (let round = 0; round < options.rounds; round++) {
      for (const step of rotation(steps, round)) {
        const before = process.cpuUsage()
        const sample = await runClosedLoop(step.name, step.run, concurrency, options.sliceMs)
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
        concurrency,
        // Wall time per query of one worker.
        microseconds: (elapsed * 1000 * concurrency) / operations,
        clientCpuMicroseconds: (cpu.get(step.name) ?? 0) / operations,
        ratio: medianRatio(mine, samples.get('raw') ?? []),
      }
    })
  } finally {
    await Promise.all([raw.end(), rls.end(), rlsWithStatement.end(), app.end(), unnamedApp.end()])
  }
}
