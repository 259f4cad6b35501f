/** What a long export, import or erase reports as it goes (one call per table step). */
export interface LifecycleProgress {
  phase: 'export' | 'verify' | 'import' | 'erase'
  /** `schema.table` */
  table: string
  /** 1-based position of the table, and how many there are. */
  index: number
  total: number
  /** Rows done in this table so far. */
  rows: number
}

/** Called after each table step (and during a long COPY); a returned promise is awaited before the next step. */
export type OnProgress = (progress: LifecycleProgress) => void | Promise<void>
