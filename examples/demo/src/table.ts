/** A plain box table that reads well in a terminal and in a CI log. */
export function table(headers: string[], rows: string[][]): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the ANSI colour codes that take no width.
  const width = (text: string) => [...text.replace(/\x1b\[[0-9;]*m/g, '')].length
  const widths = headers.map((header, i) => Math.max(width(header), ...rows.map((row) => width(row[i] ?? ''))))
  const pad = (text: string, i: number) => text + ' '.repeat(widths[i]! - width(text))
  const line = (left: string, mid: string, right: string) => left + widths.map((w) => '─'.repeat(w + 2)).join(mid) + right
  const row = (cells: string[]) => `│ ${cells.map((cell, i) => pad(cell, i)).join(' │ ')} │`
  return [line('┌', '┬', '┐'), row(headers), line('├', '┼', '┤'), ...rows.map(row), line('└', '┴', '┘')].join('\n')
}

export const money = (cents: number, currency = 'EUR') =>
  `${currency} ${(cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2 })}`
