/** What a long export, import or erase reports as it goes (one call per table step). */
export interface LifecycleProgress {
  /** `isolate` and `move`: a move between Citus nodes (moveTenant with `to.citusNode`). */
  phase: 'export' | 'verify' | 'import' | 'erase' | 'isolate' | 'move'
  /** `schema.table` */
  table: string
  /** 1-based position of the table, and how many there are. */
  index: number
  total: number
  /** Rows done in this table so far. */
  rows: number
  /** A move between Citus nodes: bytes of the shard copied so far, and its size on the source node. */
  bytes?: number
  totalBytes?: number
}

/** Called after each table step (and during a long COPY); a returned promise is awaited before the next step. */
export type OnProgress = (progress: LifecycleProgress) => void | Promise<void>
