/**
 * Brands an error class so that `is()` recognises its instances from any
 * installed copy of tenantscope: the brand is `Symbol.for('tenantscope:<name>')`
 * on the class's prototype, the same key in every copy (as drizzle's
 * `entityKind`), and `instanceof` would fail across copies. Subclasses
 * inherit their parents' brands. Instances of older copies, which carry the
 * brand as an own field, are recognised too.
 *
 * No imports: every package's error classes use it, and the subpath entries
 * (http, jobs) bundle it.
 */

/** @internal Brands `errorClass` and returns its `is(error, code?)`. */
export function brandError<E extends Error & { readonly code: string }>(
  errorClass: abstract new (...args: never[]) => E,
  name: string,
): (error: unknown, code?: string) => error is E {
  const brand = Symbol.for(`tenantscope:${name}`)
  Object.defineProperty(errorClass.prototype, brand, { value: true })
  return (error: unknown, code?: string): error is E =>
    typeof error === 'object' &&
    error !== null &&
    (error as { [brand]?: unknown })[brand] === true &&
    (code === undefined || (error as E).code === code)
}
