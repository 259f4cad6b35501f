/**
 * @internal Recognises the one shape of policy clause that scopes rows to the
 * tenant: `<tenant column> = <tenant expression>` (either way round), alone or
 * as one operand of a top-level AND. Works on the text pg_get_expr prints:
 * the policy enable_tenant_rls creates writes the setting out,
 * `(tenant_id = ( SELECT (NULLIF(current_setting('app.current_tenant'::text, true), ''::text))::uuid AS "nullif"))`
 * (no cast for text), and earlier versions called the helper,
 * `(tenant_id = ( SELECT tenantscope.current_tenant_id() AS current_tenant_id))`;
 * both are the same shape here.
 * Anything else (an OR, `<>`, `IS [NOT] NULL`, COALESCE on the setting, another
 * column) is not recognised: the doctor cannot prove it scopes rows, so it says so.
 */

type Token = { kind: 'ident' | 'quoted' | 'string' | 'number' | 'op' | 'punct'; text: string }

const KEYWORDS = new Set([
  'and',
  'or',
  'not',
  'is',
  'in',
  'any',
  'all',
  'some',
  'like',
  'ilike',
  'similar',
  'between',
  'case',
  'when',
  'then',
  'else',
  'end',
  'exists',
  'distinct',
  'from',
  'where',
  'null',
  'isnull',
  'notnull',
  'over',
  'filter',
  'array',
])
// Functions that can turn a missing tenant into a value that matches rows.
const UNSAFE_FUNCTIONS = new Set(['coalesce', 'greatest', 'least', 'concat', 'concat_ws', 'format'])

// Tried in order at each position; the first that matches is the token.
const TOKEN_RULES: { kind: Token['kind']; re: RegExp }[] = [
  { kind: 'string', re: /^'(?:[^']|'')*'/ },
  { kind: 'quoted', re: /^"(?:[^"]|"")*"/ },
  { kind: 'ident', re: /^[A-Za-z_][A-Za-z0-9_$]*/ },
  { kind: 'number', re: /^\d+(\.\d+)?/ },
  { kind: 'punct', re: /^::/ },
  { kind: 'punct', re: /^[(),.[\]]/ },
  { kind: 'op', re: /^[+\-*/<>=~!@#%^&|`?]+/ },
]

function tokenize(text: string): Token[] | null {
  const tokens: Token[] = []
  let i = 0
  while (i < text.length) {
    const rest = text.slice(i)
    const space = /^\s+/.exec(rest)
    if (space) {
      i += space[0].length
      continue
    }
    let found: Token | undefined
    for (const { kind, re } of TOKEN_RULES) {
      const match = re.exec(rest)
      if (match) {
        found = { kind, text: match[0] }
        break
      }
    }
    if (!found) return null
    tokens.push(found)
    i += found.text.length
  }
  return tokens
}

const isWord = (token: Token | undefined, word: string) => token?.kind === 'ident' && token.text.toLowerCase() === word

/** Depth of each token (parentheses and brackets). */
function depths(tokens: Token[]): number[] | null {
  let depth = 0
  const out: number[] = []
  for (const token of tokens) {
    if (token.text === '(' || token.text === '[') {
      out.push(depth)
      depth++
    } else if (token.text === ')' || token.text === ']') {
      depth--
      if (depth < 0) return null
      out.push(depth)
    } else out.push(depth)
  }
  return depth === 0 ? out : null
}

/** Removes parentheses that wrap the whole token list. */
function unwrap(tokens: Token[]): Token[] {
  let current = tokens
  for (;;) {
    if (current.length < 2 || current[0]!.text !== '(' || current.at(-1)!.text !== ')') return current
    let depth = 0
    let close = -1
    for (let index = 0; index < current.length; index++) {
      const text = current[index]!.text
      if (text === '(' || text === '[') depth++
      else if (text === ')' || text === ']') depth--
      if (depth === 0) {
        close = index
        break
      }
    }
    if (close !== current.length - 1) return current
    current = current.slice(1, -1)
  }
}

function splitTop(tokens: Token[], word: string): Token[][] {
  const d = depths(tokens) ?? []
  const parts: Token[][] = [[]]
  tokens.forEach((token, index) => {
    if (d[index] === 0 && isWord(token, word)) parts.push([])
    else parts.at(-1)!.push(token)
  })
  return parts
}

/** Column references: identifiers that are not functions, schemas, types, aliases or keywords. */
function columnRefs(tokens: Token[]): string[] | null {
  const refs: string[] = []
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!
    if (token.kind !== 'ident' && token.kind !== 'quoted') continue
    const previous = tokens[index - 1]
    const next = tokens[index + 1]
    const name = token.kind === 'quoted' ? token.text.slice(1, -1).replaceAll('""', '"') : token.text.toLowerCase()
    if (next?.text === '(' || next?.text === '.') continue // a function, or a schema/table qualifier
    if (previous?.text === '::') {
      // A type name, possibly of several words (character varying, timestamp with time zone).
      while (tokens[index + 1]?.kind === 'ident') index++
      continue
    }
    if (isWord(previous, 'as')) continue // an alias
    if (token.kind === 'ident') {
      const word = token.text.toLowerCase()
      if (word === 'select' || word === 'as' || word === 'true' || word === 'false') continue
      if (KEYWORDS.has(word)) return null
    }
    refs.push(name)
  }
  return refs
}

function functionNames(tokens: Token[]): string[] {
  return tokens.filter((token, index) => token.kind === 'ident' && tokens[index + 1]?.text === '(').map((token) => token.text.toLowerCase())
}

/** No operator but `::` outside string literals, and no keyword that changes the meaning. */
function isPlainOperand(tokens: Token[]): boolean {
  return tokens.length > 0 && !tokens.some((token) => token.kind === 'op')
}

export interface TenantExpressionMatchers {
  tenantColumn: string
  /** True when this text reads the tenant (the setting, tenantscope's helpers, or a function whose source reads the setting). */
  readsTenant: (text: string) => boolean
}

function isColumnSide(tokens: Token[], matchers: TenantExpressionMatchers): boolean {
  if (!isPlainOperand(tokens)) return false
  if (tokens.some((token) => isWord(token, 'select'))) return false
  const refs = columnRefs(tokens)
  return refs !== null && refs.length > 0 && refs.every((name) => name === matchers.tenantColumn)
}

function isTenantSide(tokens: Token[], matchers: TenantExpressionMatchers): boolean {
  if (!isPlainOperand(tokens)) return false
  const refs = columnRefs(tokens)
  if (refs === null || refs.length > 0) return false
  if (functionNames(tokens).some((name) => UNSAFE_FUNCTIONS.has(name))) return false
  const text = tokens
    .map((token, index) => (index > 0 && token.kind === 'ident' && tokens[index - 1]!.kind === 'ident' ? ' ' : '') + token.text)
    .join('')
  return matchers.readsTenant(text)
}

function isCanonicalComparison(tokens: Token[], matchers: TenantExpressionMatchers): boolean {
  const operand = unwrap(tokens)
  const d = depths(operand)
  if (!d) return false
  const operators = operand.map((token, index) => ({ token, index })).filter(({ token, index }) => d[index] === 0 && token.kind === 'op')
  if (operators.length !== 1 || operators[0]!.token.text !== '=') return false
  const at = operators[0]!.index
  const left = unwrap(operand.slice(0, at))
  const right = unwrap(operand.slice(at + 1))
  return (isColumnSide(left, matchers) && isTenantSide(right, matchers)) || (isColumnSide(right, matchers) && isTenantSide(left, matchers))
}

/** @internal True when the clause is `<tenant col> = <tenant expr>`, or a top-level AND with such an operand. */
export function isTenantScopedClause(expression: string, matchers: TenantExpressionMatchers): boolean {
  const tokens = tokenize(expression)
  if (!tokens || !depths(tokens)) return false
  const whole = unwrap(tokens)
  // Any top-level OR means some rows may pass without the comparison.
  if (splitTop(whole, 'or').length > 1) return false
  return splitTop(whole, 'and').some((part) => isCanonicalComparison(part, matchers))
}

/**
 * @internal The clause as a comparable token string: parentheses, the
 * `::text` PostgreSQL adds to string literals, and a sub-select's `AS alias`
 * dropped, identifiers lowercased unless quoted. pg_get_expr's text of a
 * policy and the text it was created from normalise to the same string.
 */
export function normalizeExpression(expression: string): string | null {
  const tokens = tokenize(expression)
  if (!tokens) return null
  const out: string[] = []
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!
    if (token.text === '(' || token.text === ')') continue
    if (token.text === '::' && tokens[index - 1]?.kind === 'string' && isWord(tokens[index + 1], 'text')) {
      index++
      continue
    }
    if (isWord(token, 'as') && (tokens[index + 1]?.kind === 'ident' || tokens[index + 1]?.kind === 'quoted')) {
      index++
      continue
    }
    out.push(token.kind === 'ident' ? token.text.toLowerCase() : token.text)
  }
  return out.join(' ')
}

/**
 * @internal True when the clause is exactly the policy that tenantscope ships
 * (`tenantPredicate` of @tenantscope/sql, which `enable_tenant_rls` and the
 * Drizzle helpers write too) for this column, type and setting.
 */
export function isShippedPredicate(expression: string | null, shipped: string): boolean {
  if (expression === null) return false
  const normalized = normalizeExpression(expression)
  return normalized !== null && normalized === normalizeExpression(shipped)
}

/**
 * @internal The calls in the clause, outside any sub-select, of functions
 * `reads` picks out: such a call runs once per row, where `(SELECT f())` would
 * be an InitPlan that runs once per statement.
 */
export function callsPerRow(expression: string, reads: (name: string) => boolean): string[] {
  const tokens = tokenize(expression)
  if (!tokens) return []
  const calls: string[] = []
  // One entry per open parenthesis: does a sub-select start right after it?
  const stack: boolean[] = []
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!
    if (token.text === '(' || token.text === '[') stack.push(isWord(tokens[index + 1], 'select'))
    else if (token.text === ')' || token.text === ']') stack.pop()
    else if (token.kind === 'ident' && tokens[index + 1]?.text === '(' && !stack.includes(true)) {
      // A qualified name: schema . function
      const qualified = tokens[index - 1]?.text === '.' && tokens[index - 2] ? `${tokens[index - 2]!.text}.${token.text}` : token.text
      if (reads(qualified.toLowerCase())) calls.push(qualified)
    }
  }
  return calls
}
