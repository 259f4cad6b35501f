import { rotation, type Sample } from './runner.js'

/** One mode's measurement: its sample, and CPU per operation of this process and of the servers, in µs. */
export interface Measured {
  sample: Sample
  clientUs: number
  serversUs: number
}

/**
 * One round: each mode's slice cut into `pieces`, the modes taking turns
 * piece by piece (the order rotated every turn), so that every mode is
 * measured across the same stretch of time. On a shared host a slow few
 * seconds then fall on every mode of the round alike, instead of on the one
 * mode whose whole slice they hit.
 */
export async function measureRound<M extends string>(
  modes: readonly M[],
  measurePiece: (mode: M, durationMs: number) => Promise<Measured>,
  sliceMs: number,
  pieces: number,
  round: number,
): Promise<Map<M, Measured>> {
  const parts = new Map<M, Measured[]>(modes.map((mode) => [mode, []]))
  for (let piece = 0; piece < pieces; piece++) {
    for (const mode of rotation(modes, round + piece)) parts.get(mode)!.push(await measurePiece(mode, sliceMs / pieces))
  }
  return new Map(modes.map((mode) => [mode, combine(parts.get(mode)!)]))
}

/** A mode's pieces of one round as one measurement: operations and time added, CPU per operation weighted by operations. */
export function combine(parts: readonly Measured[]): Measured {
  const operations = parts.reduce((sum, part) => sum + part.sample.operations, 0)
  const perOp = (of: (part: Measured) => number) => parts.reduce((sum, part) => sum + of(part) * part.sample.operations, 0) / operations
  return {
    sample: {
      operations,
      elapsedMs: parts.reduce((sum, part) => sum + part.sample.elapsedMs, 0),
      latencies: parts.flatMap((part) => part.sample.latencies),
      errors: parts.reduce((sum, part) => sum + part.sample.errors, 0),
    },
    clientUs: operations > 0 ? perOp((part) => part.clientUs) : Number.NaN,
    serversUs: operations > 0 ? perOp((part) => part.serversUs) : Number.NaN,
  }
}
