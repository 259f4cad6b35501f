/**
 * Mode order for round `round`, from a Williams design: over a cycle of
 * rounds (n for an even number of modes, 2n for an odd one), every mode runs
 * at every position equally often AND follows every other mode equally often.
 *
 * A plain rotation gives the first property only: each mode then nearly
 * always follows the same one (the floor after raw pg, the floor again after
 * the floor), so whatever a slice leaves behind (caches, the scheduler's
 * view of a process that just went idle, backends still settling) would fall
 * on the same successor every time, a bias no number of rounds averages out.
 * (The floor's second process measured more client CPU than the first under
 * both orders, so that gap came from elsewhere: see where run-once.ts starts
 * the processes.)
 */
export function balancedOrder<T>(items: readonly T[], round: number): T[] {
  const n = items.length
  if (n < 2) return [...items]
  // The first row: 0, 1, n-1, 2, n-2, ...; row r adds r to each (mod n).
  const first = Array.from({ length: n }, (_, position) =>
    position === 0 ? 0 : position % 2 === 1 ? (position + 1) / 2 : n - position / 2,
  )
  const rows = n % 2 === 0 ? n : 2 * n
  const row = ((round % rows) + rows) % rows
  // An odd count needs the mirror of each row too, to balance who follows whom.
  const base = row < n ? first : [...first].reverse()
  return base.map((index) => items[(index + row) % n]!)
}
