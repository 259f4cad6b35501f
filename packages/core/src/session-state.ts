/**
 * @internal Session state that application SQL can leave on a pooled
 * connection, past COMMIT and past release(): a session-level SET or
 * set_config(..., false), SET ROLE, a WITH HOLD cursor, a temporary table,
 * LISTEN, PREPARE, a session advisory lock. The next borrower, another
 * tenant, would inherit it (read a temp table filled under the first
 * tenant, fetch from its cursor, run as its role).
 *
 * Detected from what PostgreSQL answers, at no extra round trip: the command
 * tag of each statement (with a look at the statement's text for the few tags
 * that may or may not leave state), and ParameterStatus messages (a reported
 * setting changed: TimeZone, application_name, session_authorization, ...).
 * A connection so marked is destroyed on release rather than reset: a reset
 * (DISCARD ALL) would also undo what a pool's 'connect' hook set up, and
 * forget pg's own prepared statements.
 */
const marked = new WeakSet<object>()

/** @internal After a statement completed on `connection`: does its tag say it left session state? */
export function noteCommandComplete(connection: object, message: unknown, text: unknown): void {
  const tag = (message as { text?: unknown } | null)?.text
  if (typeof tag === 'string' && leavesSessionState(tag, typeof text === 'string' ? text : '')) marked.add(connection)
}

/** @internal A reported setting changed on the connection (ParameterStatus). */
export function markSessionState(connection: object): void {
  marked.add(connection)
}

/** @internal */
export function hasSessionState(connection: object): boolean {
  return marked.has(connection)
}

// Tags that leave state whatever the text. DEALLOCATE and DISCARD drop
// prepared statements that pg (and the named setter) believe are there.
const ALWAYS = new Set(['SET', 'RESET', 'DISCARD', 'LISTEN', 'PREPARE', 'DEALLOCATE', 'LOAD'])

// SET LOCAL, SET TRANSACTION and SET CONSTRAINTS end with the transaction,
// when they are the whole text (leading comments allowed): in a script, a
// later SET may be a session one.
const TRANSACTION_SET = /^(?:\s|--[^\n\r]*|\/\*[\s\S]*?\*\/)*set\s+(?:local|transaction|constraints)\b[^;]*;?\s*$/i

// For SELECT (also the tag of CREATE TABLE AS and SELECT INTO), CREATE, DO and CALL.
const SELECT_STATE = /\b(?:temp|temporary)\s+table\b|\binto\s+(?:temp|temporary)\b|\bpg_temp\.|set_config|advisory_lock/i
const CREATE_STATE = /\b(?:temp|temporary)\b|\bpg_temp\./i
const BLOCK_STATE = /\b(?:temp|temporary|pg_temp|set_config|advisory_lock|set|reset|discard|listen|prepare|deallocate|load|hold)\b/i

/** @internal By command tag, and for some tags the text: may this statement have left session state? */
export function leavesSessionState(tag: string, text: string): boolean {
  const space = tag.indexOf(' ')
  const command = space < 0 ? tag : tag.slice(0, space)
  switch (command) {
    case 'SELECT':
      return selectLeavesState(text)
    case 'INSERT':
    case 'UPDATE':
    case 'DELETE':
    case 'MERGE':
    case 'BEGIN':
    case 'COMMIT':
    case 'ROLLBACK':
    case 'FETCH':
    case 'MOVE':
    case 'COPY':
      return false
    case 'SET':
      return !TRANSACTION_SET.test(text)
    case 'CREATE':
      return CREATE_STATE.test(text)
    case 'DECLARE':
      return /\bhold\b/i.test(text)
    case 'DO':
    case 'CALL':
      return BLOCK_STATE.test(text)
    default:
      return ALWAYS.has(command)
  }
}

// The SELECT tag comes with most statements: remember each text's answer (a
// Map lookup costs ~30 ns, the regular expression ~200 ns on a 200-character
// statement). Bounded, for apps that inline values into their SQL.
const selectAnswers = new Map<string, boolean>()
const MAX_REMEMBERED = 1000

function selectLeavesState(text: string): boolean {
  let answer = selectAnswers.get(text)
  if (answer === undefined) {
    if (selectAnswers.size >= MAX_REMEMBERED) selectAnswers.clear()
    selectAnswers.set(text, (answer = SELECT_STATE.test(text)))
  }
  return answer
}
