import type { BenchOptions } from './args.js'
import type { CellRun } from './cells.js'
import type { BenchDatabase } from './database.js'
import type { PostgresJsRow } from './postgres-js-comparison.js'
import type { ScaleDataSet, ScaleRun } from './scale.js'
import type { Tenant } from './seed.js'

/** What the parent process hands each run (a child process), as JSON. */
export interface RunPlan {
  /** 0-based; also where the run takes up the modes' balanced order, so that runs start on different modes. */
  runIndex: number
  options: BenchOptions
  database: BenchDatabase
  tenants: Tenant[]
  scale: ScaleDataSet[]
}

/** What a run hands back, as JSON. */
export interface RunResult {
  cells: CellRun[]
  postgresJs: PostgresJsRow[]
  scale: ScaleRun[]
  notes: string[]
  /** How the backends' CPU was read, or why it was not. */
  serverCpu: string
  elapsedMs: number
}
