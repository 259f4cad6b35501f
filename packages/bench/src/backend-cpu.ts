import { readFile } from 'node:fs/promises'
import postgres from 'postgres'

/**
 * CPU time (user + system, µs) the backends of one application_name have
 * used, read from /proc: only when PostgreSQL runs on this machine (the
 * bench's embedded server or a local one); elsewhere `available` is false.
 * Clock ticks are 10 ms, so a slice needs a few hundred ms to be measured.
 */
export interface BackendCpu {
  readonly available: boolean
  microseconds(applicationName: string): Promise<number>
  close(): Promise<void>
}

const TICK_MICROSECONDS = 10_000

export async function openBackendCpu(adminUrl: string): Promise<BackendCpu> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined })
  const [self] = await admin`SELECT pg_backend_pid() AS pid`
  const available = (await ticksOf(self!.pid as number)) !== undefined
  return {
    available,
    async microseconds(applicationName) {
      if (!available) return Number.NaN
      const rows = await admin`SELECT pid FROM pg_stat_activity WHERE application_name = ${applicationName}`
      let ticks = 0
      for (const row of rows) ticks += (await ticksOf(row.pid as number)) ?? 0
      return ticks * TICK_MICROSECONDS
    },
    close: () => admin.end({ timeout: 5 }),
  }
}

async function ticksOf(pid: number): Promise<number | undefined> {
  try {
    // Fields after the command name: state is field 3, utime 14, stime 15.
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ')
    return Number(fields[11]) + Number(fields[12])
  } catch {
    return undefined
  }
}
