import { readdirSync, readFileSync } from 'node:fs'
import pg from 'pg'

/**
 * CPU time of whole PostgreSQL servers (postmaster and every process it
 * started: client backends, Citus's connections between nodes, background
 * workers) from /proc, in microseconds. Children that exited are counted in
 * the postmaster's cutime/cstime once it reaped them. Linux only; undefined
 * elsewhere, and the benchmark leaves the column out.
 */
export interface ServerCpu {
  /** Microseconds of CPU used so far by each server, in the order given. */
  read(): number[]
}

const TICK_US = 1_000_000 / 100 // USER_HZ is 100 on every Linux the benchmark runs on

export async function serverCpu(adminUrls: readonly string[]): Promise<ServerCpu | undefined> {
  if (process.platform !== 'linux') return undefined
  const postmasters: number[] = []
  for (const url of adminUrls) {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
      postmasters.push(statOf(rows[0]!.pid)!.ppid)
    } finally {
      await client.end()
    }
  }
  return {
    read() {
      const totals = postmasters.map((pid) => {
        const stat = statOf(pid)
        return stat ? stat.utime + stat.stime + stat.cutime + stat.cstime : 0
      })
      for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue
        const stat = statOf(Number(entry))
        const index = stat ? postmasters.indexOf(stat.ppid) : -1
        if (stat && index >= 0) totals[index]! += stat.utime + stat.stime
      }
      return totals.map((ticks) => ticks * TICK_US)
    },
  }
}

function statOf(pid: number): { ppid: number; utime: number; stime: number; cutime: number; cstime: number } | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined // exited while we looked
  }
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  return {
    ppid: Number(fields[1]),
    utime: Number(fields[11]),
    stime: Number(fields[12]),
    cutime: Number(fields[13]),
    cstime: Number(fields[14]),
  }
}
