import { createHash } from 'node:crypto'
import type { SetterStatement } from './setter.js'

/** @internal What one ScopedQuery needs to send its setter as a named statement. */
export interface PreparedSetterUse {
  readonly name: string
  /** Send Parse(name) first: this connection is not known to hold the statement. */
  readonly parse: boolean
  /** The setter ran: the server connection now holds the statement. */
  applied(): void
  /**
   * The setter failed before the user's statement ran. True when the error
   * is absorbed and the same statement is sent again, unnamed.
   */
  failed(error: unknown): boolean
}

// 26000: the statement is missing on this server connection (a pooler moved
// us, or someone ran DEALLOCATE). 42P05: it is already there (a pooler moved
// us onto a connection where another client had prepared it).
const RETRYABLE = new Set(['26000', '42P05'])

// When to give up naming for the pool: a pooler that resets every server
// connection (server_reset_query_always) loses the statement before about
// every other query, and each loss costs a second round trip. Only 26000
// counts: 42P05 means the statement is there (another client prepared it).
// Judged per window of attempts, so warm-up behind PgBouncer, where each
// server connection lacks the statement until one client prepares it there,
// stays well below the limit even with a hundred server connections.
const WINDOW = 256
const MAX_MISSING_PER_WINDOW = 64

/**
 * @internal Per pool: which connections already hold which named setter
 * statements. Names are content-addressed (a hash of the statement text), so
 * a name always means the same statement on every server connection, even
 * when several pools or apps share connections through a pooler.
 */
export class PreparedSetters {
  readonly #parsed = new WeakMap<object, Set<string>>()
  readonly #names = new Map<string, string>()
  #attempts = 0
  #missing = 0
  #disabled = false

  /**
   * How to send `setter` on `connection`, or undefined to send it unnamed.
   * `retry` must queue the statement again, unnamed, ahead of anything else.
   */
  use(connection: object, setter: SetterStatement, retry: () => void): PreparedSetterUse | undefined {
    if (this.#disabled) return undefined
    const name = this.#nameOf(setter.text)
    let parsed = this.#parsed.get(connection)
    if (parsed === undefined) this.#parsed.set(connection, (parsed = new Set()))
    const known = parsed
    return {
      name,
      parse: !known.has(name),
      applied: () => {
        known.add(name)
        this.#count(false)
      },
      failed: (error) => {
        const code = (error as { code?: unknown } | null)?.code
        if (typeof code !== 'string' || !RETRYABLE.has(code)) {
          // Unknown whether the Parse went through: parse next time; a
          // duplicate then costs one absorbed 42P05.
          known.delete(name)
          return false
        }
        if (code === '42P05') known.add(name)
        else known.delete(name)
        this.#count(code === '26000')
        retry()
        return true
      },
    }
  }

  #count(missing: boolean): void {
    if (missing && ++this.#missing >= MAX_MISSING_PER_WINDOW) this.#disabled = true
    if (++this.#attempts >= WINDOW) this.#attempts = this.#missing = 0
  }

  #nameOf(text: string): string {
    let name = this.#names.get(text)
    if (name === undefined) {
      name = `tenantscope_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`
      this.#names.set(text, name)
    }
    return name
  }
}
