import { createTenantPool, withTenant } from '@tenantscope/core'
import pg from 'pg'
import type { BenchDatabase, BenchDatabases } from './database.js'
import type { Mode } from './modes.js'
import { rotation, runSlice, type Sample, type Summary, summarize } from './runner.js'
import { loadScaleTenants, scaleProjectId, scaleTenantId, type Tenant } from './seed.js'
import { type Spread, spreadOf } from './spread.js'
import { type Picker, WORKLOADS } from './workloads.js'

export interface ScaleOptions {
  tenants: number[]
  rowsPerTenant: number
  sliceMs: number
  rounds: number
}

/** One data set of the scaling run, loaded once by the parent process, measured by every run. */
export interface ScaleDataSet {
  tenants: number
  rowsPerTenant: number
  loadMs: number
  database: BenchDatabase
}

/** One run's figures for one data set and read workload. */
export interface ScaleRun {
  tenants: number
  workload: string
  tenantscope: Summary
  raw: Summary
  /** Median over rounds of p50 here / p50 at the smallest size in the same round. */
  flatness: number
  rawFlatness: number
}

export interface ScaleRow {
  tenants: number
  rows: number
  loadMs: number
  workload: string
  throughput: Spread
  p50: Spread
  rawP50: Spread
  flatness: Spread
  rawFlatness: Spread
  /** tenantscope / raw throughput, per run. */
  ratio: Spread
}

export interface ScaleResult {
  rows: ScaleRow[]
  /** EXPLAIN of the scoped top-10 query on the largest data set, as the app role. */
  plan: string
}

/**
 * One database per tenant count (100, 1 000, 10 000 tenants by default, each
 * with `rowsPerTenant` projects: 2 million rows at 10 000), so that the
 * measurements can alternate between them instead of running one after the
 * other while the machine's load changes.
 */
export async function loadScale(databases: BenchDatabases, options: ScaleOptions, log: (line: string) => void): Promise<ScaleDataSet[]> {
  const sets: ScaleDataSet[] = []
  for (const tenants of options.tenants) {
    const database = await databases.create(`scale_${tenants}`)
    const began = performance.now()
    await loadScaleTenants(database.adminUrl, tenants, options.rowsPerTenant)
    const loadMs = performance.now() - began
    log(`scaling: ${tenants} tenants × ${options.rowsPerTenant} projects loaded in ${(loadMs / 1000).toFixed(1)} s`)
    sets.push({ tenants, rowsPerTenant: options.rowsPerTenant, loadMs, database })
  }
  return sets
}

/**
 * Every operation picks a tenant uniformly out of all of them and a row
 * uniformly out of that tenant's: the whole table is in play, not a hot few.
 */
export function createUniformPicker(tenants: number, rowsPerTenant: number, random: () => number = Math.random): Picker {
  const int = (max: number) => Math.floor(random() * max)
  const ids = Array.from({ length: tenants }, (_, k) => scaleTenantId(k + 1))
  return {
    int,
    tenant: (): Tenant => ({ id: ids[int(tenants)]!, projectIds: [] }),
    project: (tenant) => scaleProjectId(tenant.id, int(rowsPerTenant) + 1),
  }
}

/** One run's scaling measurements: the read workloads, one loopback connection per mode, data sets and modes alternating. */
export async function measureScale(sets: readonly ScaleDataSet[], options: ScaleOptions, runIndex: number): Promise<ScaleRun[]> {
  const opened = sets.map((set) => {
    const raw = new pg.Pool({ connectionString: set.database.maintenanceUrl, max: 1, idleTimeoutMillis: 0 })
    const app = new pg.Pool({ connectionString: set.database.appUrl, max: 1, idleTimeoutMillis: 0 })
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
    return { set, modes, pick: createUniformPicker(set.tenants, set.rowsPerTenant), close: () => Promise.all([raw.end(), app.end()]) }
  })
  try {
    const reads = WORKLOADS.filter((workload) => workload.read)
    const samples = new Map<string, Sample[]>()
    const key = (tenants: number, workload: string, mode: string) => `${tenants}/${workload}/${mode}`
    for (const { modes, pick } of opened)
      for (const workload of reads) for (const mode of modes) await runSlice(mode, workload, pick, 1, options.sliceMs / 2)
    for (let round = 0; round < options.rounds; round++) {
      for (const { set, modes, pick } of rotation(opened, round + runIndex)) {
        for (const workload of reads) {
          for (const mode of rotation(modes, round + runIndex)) {
            const sample = await runSlice(mode, workload, pick, 1, options.sliceMs)
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
    return sets.flatMap((set) =>
      reads.map((workload) => ({
        tenants: set.tenants,
        workload: workload.name,
        tenantscope: summarize(samples.get(key(set.tenants, workload.name, 'tenantscope')) ?? []),
        raw: summarize(samples.get(key(set.tenants, workload.name, 'raw')) ?? []),
        flatness: flatness(set.tenants, workload.name, 'tenantscope'),
        rawFlatness: flatness(set.tenants, workload.name, 'raw'),
      })),
    )
  } finally {
    for (const { close } of opened) await close()
  }
}

/** The runs' scaling figures, each a median over runs with its spread. */
export function aggregateScale(sets: readonly ScaleDataSet[], runs: readonly ScaleRun[][]): ScaleRow[] {
  return sets.flatMap((set) =>
    WORKLOADS.filter((workload) => workload.read).map((workload) => {
      const mine = runs.map((run) => run.find((row) => row.tenants === set.tenants && row.workload === workload.name))
      const of = (value: (row: ScaleRun) => number) => spreadOf(mine.map((row) => (row ? value(row) : Number.NaN)))
      return {
        tenants: set.tenants,
        rows: set.tenants * set.rowsPerTenant,
        loadMs: set.loadMs,
        workload: workload.name,
        throughput: of((row) => row.tenantscope.throughput),
        p50: of((row) => row.tenantscope.p50),
        rawP50: of((row) => row.raw.p50),
        flatness: of((row) => row.flatness),
        rawFlatness: of((row) => row.rawFlatness),
        ratio: of((row) => row.tenantscope.throughput / row.raw.throughput),
      }
    }),
  )
}

export async function explainTop10(set: ScaleDataSet): Promise<string> {
  const pool = createTenantPool({ connectionString: set.database.appUrl, max: 1 })
  try {
    const result = await withTenant(scaleTenantId(1), () =>
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
