import { type CellRun, cellKey, clientCpuPerOp, serverCpuPerOp } from './cells.js'

/**
 * The modes whose backends receive the floor's bytes, write for write
 * (test/pg/floor-wire.test.ts holds each to the floor's): for them the
 * server does the same work per operation, and any spread of their measured
 * server CPU is the host's, not theirs.
 */
export const FLOOR_WIRE_MODES: readonly string[] = ['floor', 'floor-again', 'floor-als', 'tenantscope']

/**
 * CPU per operation of `cell` with the server's part shared: its own client
 * CPU per op plus the mean server CPU per op of the floor-wire modes
 * measured in the same run and cell.
 *
 * Why: the server is about two thirds of a loopback operation's CPU, and the
 * same bytes cost it the same, yet two processes running the floor's code
 * measured 10–13% apart per run in server CPU on this host (the A/A
 * control). Taking each mode's own server figure adds that noise to a
 * comparison of client paths; sharing it keeps every microsecond of the
 * client's difference and drops only what is noise by construction. The
 * report prints the server's own ratio beside it, so that a mode which made
 * the server work harder would still show.
 */
export function sharedServerCpuPerOp(run: readonly CellRun[], cell: CellRun): number {
  if (!FLOOR_WIRE_MODES.includes(cell.mode)) return Number.NaN
  const servers = FLOOR_WIRE_MODES.map((mode) => run.find((other) => cellKey(other) === cellKey({ ...cell, mode })))
    .filter((other) => other !== undefined)
    .map(serverCpuPerOp)
  if (servers.length === 0 || !servers.every(Number.isFinite)) return Number.NaN
  return clientCpuPerOp(cell) + servers.reduce((sum, value) => sum + value, 0) / servers.length
}

/** Per run, `a`'s CPU per op over `b`'s, the server's part shared (for pairOf). */
export const sharedServerRatio = (a: CellRun, b: CellRun, run: readonly CellRun[]): number =>
  sharedServerCpuPerOp(run, a) / sharedServerCpuPerOp(run, b)
