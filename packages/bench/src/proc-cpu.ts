import { readFileSync } from 'node:fs'

/**
 * CPU time of a local process, from /proc: the first field of
 * /proc/<pid>/schedstat (nanoseconds on a CPU, exact) when the kernel has it,
 * else utime + stime of /proc/<pid>/stat (clock ticks, 10 ms each at the
 * usual 100 Hz: coarse over short slices).
 */
export interface ProcCpuReader {
  /** Microseconds of CPU the process has used, or undefined once it is gone. */
  read(pid: number): number | undefined
  readonly source: 'schedstat' | 'stat'
}

/** Nanoseconds on a CPU, the first of /proc/<pid>/schedstat's three fields. */
export function parseSchedstat(text: string): number {
  const first = text.trim().split(/\s+/)[0]
  const value = Number(first)
  if (first === undefined || first === '' || !Number.isFinite(value)) throw new Error(`not a schedstat line: ${JSON.stringify(text)}`)
  return value
}

/**
 * utime and stime (fields 14 and 15, in clock ticks) of a /proc/<pid>/stat
 * line. The command name, field 2, is in parentheses and may itself hold
 * spaces and parentheses: the fields are counted after its last ')'.
 */
export function parseStat(text: string): { utime: number; stime: number } {
  const close = text.lastIndexOf(')')
  if (close < 0) throw new Error(`not a stat line: ${JSON.stringify(text.slice(0, 80))}`)
  // After ')': field 3 (state) is index 0, so field n is index n - 3.
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/)
  const utime = Number(fields[14 - 3])
  const stime = Number(fields[15 - 3])
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`not a stat line: ${JSON.stringify(text.slice(0, 80))}`)
  return { utime, stime }
}

/** Reads from /proc on this machine; `ticksPerSecond` is CLK_TCK (100 on Linux). */
export function createProcCpuReader(ticksPerSecond = 100): ProcCpuReader {
  const readText = (path: string) => {
    try {
      return readFileSync(path, 'utf8')
    } catch {
      return undefined
    }
  }
  const schedstat = readText('/proc/self/schedstat') !== undefined
  if (schedstat) {
    return {
      source: 'schedstat',
      read: (pid) => {
        const text = readText(`/proc/${pid}/schedstat`)
        return text === undefined ? undefined : parseSchedstat(text) / 1000
      },
    }
  }
  return {
    source: 'stat',
    read: (pid) => {
      const text = readText(`/proc/${pid}/stat`)
      if (text === undefined) return undefined
      const { utime, stime } = parseStat(text)
      return ((utime + stime) * 1_000_000) / ticksPerSecond
    },
  }
}

/** True when `pid` is a PostgreSQL process visible in this machine's /proc (the server is local, not in another PID namespace). */
export function isLocalPostgres(pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8')
    return /postgres/.test(cmdline) || /postgres/.test(comm)
  } catch {
    return false
  }
}
