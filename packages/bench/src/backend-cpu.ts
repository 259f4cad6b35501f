import postgres from 'postgres'
import { createProcCpuReader } from './proc-cpu.js'

/**
 * CPU time (µs) the backends of one application_name have used, read from
 * /proc (proc-cpu.ts): only when PostgreSQL runs on this machine (the bench's
 * embedded server or a local one); elsewhere `available` is false.
 */
export interface BackendCpu {
  readonly available: boolean
  microseconds(applicationName: string): Promise<number>
  close(): Promise<void>
}

export async function openBackendCpu(adminUrl: string): Promise<BackendCpu> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined })
  const reader = createProcCpuReader()
  const [self] = await admin`SELECT pg_backend_pid() AS pid`
  const available = reader.read(self!.pid as number) !== undefined
  return {
    available,
    async microseconds(applicationName) {
      if (!available) return Number.NaN
      const rows = await admin`SELECT pid FROM pg_stat_activity WHERE application_name = ${applicationName}`
      let total = 0
      for (const row of rows) total += reader.read(row.pid as number) ?? 0
      return total
    },
    close: () => admin.end({ timeout: 5 }),
  }
}
