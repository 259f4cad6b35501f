/** @internal Always-quoted identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** @internal Does `name` (schema.table as format('%I.%I') prints it) match a user's `entry`? */
export function matchesTable(name: string, entry: string): boolean {
  const plain = (text: string) => text.replaceAll('"', '')
  return entry.includes('.') ? plain(entry) === plain(name) : plain(name).endsWith(`.${plain(entry)}`)
}
