/**
 * @internal Whether a statement may run spliced (the setter under the
 * statement's own Sync, one implicit transaction) rather than inside
 * BEGIN, setter, statement, COMMIT.
 *
 * Spliced, a statement that controls the transaction (BEGIN, COMMIT,
 * SAVEPOINT, PREPARE TRANSACTION, CALL or DO whose routine commits, ...)
 * would act on the implicit transaction: a BEGIN turns it into an explicit
 * one that outlives the Sync, with the tenant's setting, on a connection
 * postgres.js then hands to anyone. So only statements that surely do not
 * are spliced, read from their first keyword: an allowlist, so anything
 * unknown (a leading comment or parenthesis included) takes the path that
 * handles every statement.
 */
const SPLICED = ['select', 'insert', 'update', 'delete', 'with', 'values', 'table', 'merge']

export function spliceEligible(strings: readonly string[]): boolean {
  const text = strings[0]
  if (typeof text !== 'string') return false
  let at = 0
  while (at < text.length && isSpace(text.charCodeAt(at))) at++
  let end = at
  while (end < text.length && end - at <= 6 && isLetter(text.charCodeAt(end))) end++
  // The keyword ends the text or is followed by something that is not a letter (SELECT1 is no SELECT).
  if (end === at || (end < text.length && isKeywordChar(text.charCodeAt(end)))) return false
  // Compared in place, case-insensitively (no string made per statement).
  return SPLICED.some((keyword) => keyword.length === end - at && sameLetters(text, at, keyword))
}

// Letters only on both sides: bit 0x20 makes an ASCII letter lower-case.
function sameLetters(text: string, at: number, keyword: string): boolean {
  for (let i = 0; i < keyword.length; i++) if ((text.charCodeAt(at + i) | 0x20) !== keyword.charCodeAt(i)) return false
  return true
}

const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13)
const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
// Letters, digits, _ and $ continue an identifier; anything else ends the keyword.
const isKeywordChar = (c: number) => isLetter(c) || (c >= 48 && c <= 57) || c === 95 || c === 36 || c >= 128
