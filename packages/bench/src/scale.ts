import { createTenantPool, withTenant } from '@tenantscope/core'
import pg from 'pg'
import type { BenchDatabases } from './database.js'
import type { Mode } from './modes.js'
import { rotation, runSlice, type Sample, type Summary, summarize } from './runner.js'
import { growTenants, sampleTenants } from './seed.js'
import { createPicker, WORKLOADS } from './workloads.js'

export interface ScaleOptions {
  tenants: number[]
  rowsPerTenant: number
  sliceMs: number
  rounds: number
}

export interface ScaleRow {
  tenants: number
  rows: number
  loadMs: number
  workload: string
  tenantscope: Summary
  raw: Summary
  /** Median over rounds of p50 here / p50 at the smallest size in the same round. */
  flatness: number
  rawFlatness: number
}

export interface ScaleResult {
  rows: ScaleRow[]
  /** EXPLAIN of the scoped top-10 query on the largest data set, as the app role. */
  plan: string
}

/**
 * One database per tenant count (100, 1 000, 10 000 tenants by default, each
 * with `rowsPerTenant` projects per tenant: 2 million rows at 10 000), so the
 * measurements can alternate between them instead of running one after the
 * other while the machine's load changes. Each slice queries 100 tenants
 * picked at random across the whole table, one connection, loopback.
 */
export async function runScale(databases: BenchDatabases, options: ScaleOptions, log: (line: string) => void): Promise<ScaleResult> {
  const sets: Array<{
    tenants: number
    rows: number
    loadMs: number
    modes: Mode[]
    pick: ReturnType<typeof createPicker>
    close: () => Promise<void>
    appUrl: string
  }> = []
  try {
    for (const tenants of options.tenants) {
      const database = await databases.create(`scale_${tenants}`)
      const began = performance.now()
      await growTenants(database.adminUrl, tenants, options.rowsPerTenant)
      const loadMs = performance.now() - began
      log(`scaling: ${tenants} tenants × ${options.rowsPerTenant} projects loaded in ${(loadMs / 1000).toFixed(1)} s`)
      const pick = createPicker(await sampleTenants(database.adminUrl, 100))
      const raw = new pg.Pool({ connectionString: database.maintenanceUrl, max: 1 })
      const app = new pg.Pool({ connectionString: database.appUrl, max: 1 })
      const pool = createTenantPool(app)
      const modes: Mode[] = [
        {
          name: 'tenantscope',
          label: 'tenantscope',
          run: (operation) =>
            withTenant(
              operation.tenantId,
              async () => void (await pool.query(operation.statements[0]!.scoped.text, operation.statements[0]!.scoped.values)),
            ),
        },
        {
          name: 'raw',
          label: 'raw',
          run: async (operation) => void (await raw.query(operation.statements[0]!.raw.text, operation.statements[0]!.raw.values)),
        },
      ]
      sets.push({
        tenants,
        rows: tenants * options.rowsPerTenant,
        loadMs,
        modes,
        pick,
        appUrl: database.appUrl,
        close: async () => void (await Promise.all([raw.end(), app.end()])),
      })
    }

    const reads = WORKLOADS.filter((workload) => workload.read)
    const samples = new Map<string, Sample[]>()
    const key = (tenants: number, workload: string, mode: string) => `${tenants}/${workload}/${mode}`
    // Warm every data set's caches once before measuring.
    for (const set of sets)
      for (const workload of reads) for (const mode of set.modes) await runSlice(mode, workload, set.pick, 1, options.sliceMs / 2)
    for (let round = 0; round < options.rounds; round++) {
      for (const set of rotation(sets, round)) {
        for (const workload of reads) {
          for (const mode of rotation(set.modes, round)) {
            const sample = await runSlice(mode, workload, set.pick, 1, options.sliceMs)
            const k = key(set.tenants, workload.name, mode.name)
            samples.set(k, [...(samples.get(k) ?? []), sample])
          }
        }
      }
    }

    const smallest = sets[0]!
    // Per round: p50 at this size over p50 at the smallest, measured moments apart.
    const flatness = (tenants: number, workload: string, mode: string) => {
      const mine = samples.get(key(tenants, workload, mode)) ?? []
      const base = samples.get(key(smallest.tenants, workload, mode)) ?? []
      const ratios = mine.map((sample, round) => p50(sample) / p50(base[round]!)).sort((a, b) => a - b)
      return ratios[Math.floor(ratios.length / 2)] ?? Number.NaN
    }
    const largest = sets[sets.length - 1]!
    const plan = await explainTop10(largest.appUrl, largest.pick.tenant().id)
    const rows: ScaleRow[] = []
    for (const set of sets) {
      for (const workload of reads) {
        rows.push({
          tenants: set.tenants,
          rows: set.rows,
          loadMs: set.loadMs,
          workload: workload.name,
          tenantscope: summarize(samples.get(key(set.tenants, workload.name, 'tenantscope')) ?? []),
          raw: summarize(samples.get(key(set.tenants, workload.name, 'raw')) ?? []),
          flatness: flatness(set.tenants, workload.name, 'tenantscope'),
          rawFlatness: flatness(set.tenants, workload.name, 'raw'),
        })
      }
    }
    return { rows, plan }
  } finally {
    for (const set of sets) await set.close()
  }
}

async function explainTop10(appUrl: string, tenantId: string): Promise<string> {
  const pool = createTenantPool({ connectionString: appUrl, max: 1 })
  try {
    const result = await withTenant(tenantId, () =>
      pool.query<{ 'QUERY PLAN': string }>(
        'EXPLAIN (COSTS OFF) SELECT id, name, created_at FROM projects ORDER BY created_at DESC LIMIT 10',
      ),
    )
    return result.rows.map((row) => row['QUERY PLAN']).join('\n')
  } finally {
    await pool.end()
  }
}

function p50(sample: Sample): number {
  return summarize([sample]).p50
}
