/**
 * @internal Splits SQL text into its top-level statements the way
 * PostgreSQL's lexer (src/backend/parser/scan.l) reads it, and keeps the
 * first few tokens of each: enough to tell BEGIN, SET TRANSACTION and
 * COMMIT ... AND CHAIN from anything else.
 *
 * It follows scan.l for everything that decides where a statement ends:
 * whitespace (space, \t, \n, \r, \f, \v), `--` comments (ended by \n or \r),
 * nested block comments, '...' strings ('' escapes; backslash escapes in
 * E'...' strings, and in every string when `plainBackslash`, that is
 * standard_conforming_strings = off), B'', X'', N'' and U&'' strings,
 * "quoted identifiers", dollar quotes ($$...$$, $tag$...$tag$; `$1` is a
 * parameter, and `$` inside an identifier is part of it).
 *
 * Every `;` outside those ends a statement. PostgreSQL's grammar can only end
 * a statement at such a `;`, so the lexer never sees fewer statements than
 * the server. It may see more: the `;` inside a `BEGIN ATOMIC ... END`
 * function body. That errs on the safe side (see setter-placement.ts).
 */
export interface LexedScript {
  /**
   * Per statement with at least one token: its first tokens, words
   * lower-cased, '' for any other token. Only the first token is kept when it
   * is not a word that starts a transaction statement (BEGIN, SET, COMMIT...).
   */
  readonly statements: string[][]
  /** A '...' string held a backslash: where it ends depends on standard_conforming_strings. */
  readonly dependsOnBackslash: boolean
}

/** Tokens kept per statement: `COMMIT WORK AND NO CHAIN` needs five. */
const KEPT = 6

// Only statements that start with one of these need more than their first
// token (see statement-kind.ts); the others keep one, which saves a slice
// per word on the usual statement.
const LEADING = new Set(['begin', 'start', 'set', 'commit', 'end', 'rollback', 'abort', 'prepare'])

const TAB = 9
const LF = 10
const CR = 13
const SPACE = 32
const DQUOTE = 34
const DOLLAR = 36
const QUOTE = 39
const STAR = 42
const DASH = 45
const SLASH = 47
const SEMICOLON = 59
const BACKSLASH = 92

export function lexStatements(text: string, plainBackslash = false): LexedScript {
  const statements: string[][] = []
  let current: string[] | undefined
  let collecting = false
  let dependsOnBackslash = false
  const hasBackslash = !plainBackslash && text.includes('\\')
  const push = (token: string) => {
    if (current === undefined) {
      statements.push((current = [token]))
      collecting = LEADING.has(token)
    } else if (collecting && current.length < KEPT) {
      current.push(token)
    }
  }
  const n = text.length
  let i = 0
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === SPACE || (c >= TAB && c <= CR)) {
      // \t \n \v \f \r
      i++
    } else if (c === SEMICOLON) {
      current = undefined
      i++
    } else if (c === DASH && text.charCodeAt(i + 1) === DASH) {
      i = endOfLineComment(text, i + 2)
    } else if (c === SLASH && text.charCodeAt(i + 1) === STAR) {
      i = endOfBlockComment(text, i + 2)
    } else if (isIdentStart(c)) {
      let j = i + 1
      while (j < n && isIdentCont(text.charCodeAt(j))) j++
      const prefix = j === i + 1 && text.charCodeAt(j) === QUOTE ? c | 0x20 : 0
      if (prefix === 0x65 /* E'' */ || prefix === 0x62 /* B'' */ || prefix === 0x78 /* X'' */) {
        push('')
        i = endOfString(text, j + 1, prefix === 0x65)
      } else if (prefix === 0x6e /* N'' reads as a plain string */) {
        push('')
        i = endOfPlainString(j)
      } else {
        if (current === undefined || (collecting && current.length < KEPT)) push(text.slice(i, j).toLowerCase())
        i = j
      }
    } else if (c === QUOTE) {
      push('')
      i = endOfPlainString(i)
    } else if (c === DQUOTE) {
      push('')
      i = endOfQuotedIdentifier(text, i + 1)
    } else if (c === DOLLAR) {
      push('')
      const tagEnd = dollarTagEnd(text, i)
      if (tagEnd === -1) {
        i++ // a parameter ($1) or an operator character
        while (i < n && isDigit(text.charCodeAt(i))) i++
      } else {
        const close = text.indexOf(text.slice(i, tagEnd), tagEnd)
        i = close === -1 ? n : close + (tagEnd - i)
      }
    } else if (isDigit(c)) {
      // A number; letters right after it start a new token (E'' included), as in scan.l before PostgreSQL 15.
      push('')
      i++
      while (i < n && (isDigit(text.charCodeAt(i)) || text.charCodeAt(i) === 46 || text.charCodeAt(i) === 95)) i++
    } else {
      push('') // an operator, a parenthesis, a comma...
      i++
    }
  }
  return { statements, dependsOnBackslash }

  // `from` is the opening quote.
  function endOfPlainString(from: number): number {
    const end = endOfString(text, from + 1, plainBackslash)
    if (hasBackslash && !dependsOnBackslash) {
      const backslash = text.indexOf('\\', from)
      if (backslash !== -1 && backslash < end) dependsOnBackslash = true
    }
    return end
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

// scan.l: ident_start [A-Za-z\200-\377_], ident_cont adds [0-9\$]. Any
// non-ASCII character is made of bytes \200-\377 in the server's encoding.
function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 128
}

function isIdentCont(c: number): boolean {
  return isIdentStart(c) || isDigit(c) || c === DOLLAR
}

function endOfLineComment(text: string, i: number): number {
  const n = text.length
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === LF || c === CR) return i + 1
    i++
  }
  return n
}

function endOfBlockComment(text: string, i: number): number {
  const n = text.length
  let depth = 1
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === STAR && text.charCodeAt(i + 1) === SLASH) {
      i += 2
      if (--depth === 0) return i
    } else if (c === SLASH && text.charCodeAt(i + 1) === STAR) {
      i += 2
      depth++
    } else {
      i++
    }
  }
  return n
}

// `i` is just past the opening quote. '' is a quote inside the string (for
// B'' and X'', where scan.l ends the string and starts another, the string
// regions come out the same).
function endOfString(text: string, i: number, backslash: boolean): number {
  const n = text.length
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === BACKSLASH && backslash) {
      i += 2
    } else if (c === QUOTE) {
      if (text.charCodeAt(i + 1) !== QUOTE) return i + 1
      i += 2
    } else {
      i++
    }
  }
  return n
}

function endOfQuotedIdentifier(text: string, i: number): number {
  const n = text.length
  while (i < n) {
    if (text.charCodeAt(i) === DQUOTE) {
      if (text.charCodeAt(i + 1) !== DQUOTE) return i + 1
      i += 2
    } else {
      i++
    }
  }
  return n
}

// scan.l: dolqdelim \$({dolq_start}{dolq_cont}*)?\$ with dolq_start
// [A-Za-z\200-\377_] and dolq_cont [A-Za-z\200-\377_0-9]. Returns the index
// just past the tag's closing `$`, or -1 when `$` at `i` opens no quote.
function dollarTagEnd(text: string, i: number): number {
  let j = i + 1
  const n = text.length
  if (j < n && isIdentStart(text.charCodeAt(j))) {
    j++
    while (j < n && (isIdentStart(text.charCodeAt(j)) || isDigit(text.charCodeAt(j)))) j++
  }
  return j < n && text.charCodeAt(j) === DOLLAR ? j + 1 : -1
}
