/**
 * @internal What a scoped statement sends ahead of itself: BEGIN and the
 * tenant setting in one simple-protocol Query, so that postgres.js (which
 * closes every query with its own Sync) sends three commands per statement
 * instead of four.
 *
 * A simple Query cannot carry bind parameters, so the id is written as a
 * string literal, and only an id that needs no escaping at all is: ASCII
 * letters, digits and `_ . : @ + -`. With no quote, backslash or non-ASCII
 * byte in it, the literal reads the same whatever `standard_conforming_strings`
 * and the client encoding are (every encoding PostgreSQL offers a client is an
 * ASCII superset), so nothing in the id can end the literal. The setting name
 * was already checked to be a dotted identifier (no quote in it). Any other id (a custom
 * parser's), and any setter other than the default, goes as before: `BEGIN`,
 * then the setter with the id as a bind parameter.
 */
const LITERAL_SAFE = /^[A-Za-z0-9_.:@+-]{1,200}$/

/**
 * For one setting: `id => 'BEGIN; SET LOCAL <setting> = \'<id>\''`, or
 * undefined when `id` may not be written as a literal. SET LOCAL is what
 * `set_config(name, value, true)` does, without a result row for the client
 * to read.
 */
export function literalOpening(setting: string): (id: string) => string | undefined {
  // Quoted, so that a part that is a keyword (`app.user`) still parses.
  const name = setting
    .split('.')
    .map((part) => `"${part}"`)
    .join('.')
  return (id) => (LITERAL_SAFE.test(id) ? `BEGIN; SET LOCAL ${name} = '${id}'` : undefined)
}
