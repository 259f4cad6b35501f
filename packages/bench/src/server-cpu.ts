import pg from 'pg'
import { createProcCpuReader, isLocalPostgres, type ProcCpuReader } from './proc-cpu.js'

/**
 * CPU time PostgreSQL's backends spend on the bench's database, read from
 * /proc around each slice. Only one mode runs at a time and the pools keep
 * their connections (no idle timeout), so the backends' CPU during a slice is
 * that mode's. A server that is not on this machine (or in another PID
 * namespace) cannot be read: every figure is then undefined, reported n/a.
 */
export interface ServerCpu {
  readonly local: boolean
  readonly source: ProcCpuReader['source'] | undefined
  /** Before a slice: the backends and their CPU so far; call the result after the slice for the CPU used since, in µs. */
  begin(): Promise<() => number | undefined>
  close(): Promise<void>
}

export async function openServerCpu(adminUrl: string, databases: readonly string[]): Promise<ServerCpu> {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  const reader = createProcCpuReader()
  const pids = async () =>
    (
      await client.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = ANY($1) AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
        [databases],
      )
    ).rows.map((row) => row.pid)
  const self = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
  const local = isLocalPostgres(self) && reader.read(self) !== undefined
  return {
    local,
    source: local ? reader.source : undefined,
    async begin() {
      if (!local) return () => undefined
      const before = new Map<number, number>()
      for (const pid of await pids()) {
        const used = reader.read(pid)
        if (used !== undefined) before.set(pid, used)
      }
      return () => {
        let total = 0
        for (const [pid, used] of before) {
          // A backend that exited during the slice: its last reading is lost, count nothing.
          const now = reader.read(pid)
          if (now !== undefined) total += now - used
        }
        return total
      }
    },
    close: () => client.end(),
  }
}
