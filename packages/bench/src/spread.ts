/** A figure measured once per independent run: its median over the runs, and the lowest and highest run. */
export interface Spread {
  median: number
  min: number
  max: number
  /** One value per run, in run order. */
  runs: number[]
}

/** The median of `values` (the mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const middle = sorted.length / 2
  return sorted.length % 2 === 1 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** Median and [min–max] over runs; runs that measured nothing (NaN) do not count. */
export function spreadOf(values: readonly number[]): Spread {
  const finite = values.filter(Number.isFinite)
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, runs: [...values] }
  return { median: median(finite), min: Math.min(...finite), max: Math.max(...finite), runs: [...values] }
}

export type Verdict = 'met' | 'not met' | 'n/a'

/**
 * A target counts as met only when every run clears it: at least `target`
 * (`at-least`) means the lowest run does, at most (`at-most`) the highest.
 * A spread with a missing run (or none) is n/a, never met.
 */
export function judge(spread: Spread, target: number, direction: 'at-least' | 'at-most'): Verdict {
  if (spread.runs.length === 0 || spread.runs.some((value) => !Number.isFinite(value))) return 'n/a'
  return (direction === 'at-least' ? spread.min >= target : spread.max <= target) ? 'met' : 'not met'
}

/** `0.912 [0.880–0.950]`; one run alone prints without brackets. */
export function formatSpread(spread: Spread, digits = 3): string {
  if (!Number.isFinite(spread.median)) return 'n/a'
  const value = spread.median.toFixed(digits)
  return spread.runs.length > 1 ? `${value} [${spread.min.toFixed(digits)}–${spread.max.toFixed(digits)}]` : value
}
