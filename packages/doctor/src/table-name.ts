/**
 * The parts of `schema.table` (either part possibly "quoted", as
 * format('%I.%I') prints it or a user types it), unquoted.
 */
export function nameParts(name: string): string[] {
  const parts: string[] = []
  let current = ''
  let quoted = false
  for (let index = 0; index < name.length; index++) {
    const char = name[index]!
    if (char === '"') {
      if (quoted && name[index + 1] === '"') {
        current += '"'
        index++
      } else quoted = !quoted
    } else if (char === '.' && !quoted) {
      parts.push(current)
      current = ''
    } else current += char
  }
  parts.push(current)
  return parts
}

/**
 * Does the table `name` (`schema.table` as the catalog prints it) match a
 * user's `entry`: `schema.table`, or `table` in any schema, quoted or not?
 * The one matcher of the doctor's `tables` and the test kit's `tables` and `factories`.
 */
export function matchesTable(name: string, entry: string): boolean {
  const table = nameParts(name)
  const wanted = nameParts(entry)
  if (wanted.length === 1) return table.at(-1) === wanted[0]
  return wanted.length === table.length && wanted.every((part, index) => part === table[index])
}
