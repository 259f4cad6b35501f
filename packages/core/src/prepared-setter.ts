import { createHash } from 'node:crypto'
import type { SetterStatement } from './setter.js'
import { namedSetterMessages } from './setter-messages.js'

/** @internal What one ScopedQuery needs to send its setter as a named statement (one per connection and name). */
export interface PreparedSetterUse {
  readonly name: string
  /** Send Parse(name) first: this connection is not known to hold the statement. */
  readonly parse: boolean
  /**
   * `setter`'s Bind and Execute of this name, serialised once per setter
   * (see setter-messages.ts), or undefined: then pg's serializer writes them.
   */
  messages(setter: SetterStatement): Buffer | undefined
  /** The setter ran: the server connection now holds the statement. */
  applied(): void
  /**
   * The setter failed before the user's statement ran. True when the error
   * is one that sending the same statement again, unnamed, heals (the
   * caller then does so).
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
  readonly #parsed = new WeakMap<object, Map<string, SetterUse>>()
  readonly #names = new Map<string, string>()
  // Per setter statement (one per tenant, kept while the tenant's resolved
  // setter is): its Bind and Execute, serialised.
  readonly #messages = new WeakMap<SetterStatement, { values: readonly unknown[]; bytes: Buffer | null }>()
  #attempts = 0
  #missing = 0
  #disabled = false

  /** How to send `setter` on `connection`, or undefined to send it unnamed. Cached: no allocation per query. */
  use(connection: object, setter: SetterStatement): PreparedSetterUse | undefined {
    if (this.#disabled) return undefined
    const name = this.#nameOf(setter.text)
    let uses = this.#parsed.get(connection)
    if (uses === undefined) this.#parsed.set(connection, (uses = new Map()))
    let use = uses.get(name)
    if (use === undefined) uses.set(name, (use = new SetterUse(this, name)))
    return use
  }

  /** @internal The serialised Bind and Execute of `setter` under `name` (its name here: see #nameOf). */
  _messages(setter: SetterStatement, name: string): Buffer | undefined {
    let messages = this.#messages.get(setter)
    // Keyed by the setter object, but checked against its values: a custom setter may hand back the
    // same object with other values, and its bytes must never carry another tenant.
    if (messages === undefined || !sameValues(messages.values, setter.values)) {
      messages = { values: [...setter.values], bytes: namedSetterMessages(name, setter.values) ?? null }
      this.#messages.set(setter, messages)
    }
    return messages.bytes ?? undefined
  }

  /** @internal */
  _count(missing: boolean): void {
    this.#count(missing)
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

// One named setter on one connection: whether the connection holds it.
class SetterUse implements PreparedSetterUse {
  readonly #owner: PreparedSetters
  readonly name: string
  #known = false

  constructor(owner: PreparedSetters, name: string) {
    this.#owner = owner
    this.name = name
  }

  get parse(): boolean {
    return !this.#known
  }

  messages(setter: SetterStatement): Buffer | undefined {
    return this.#owner._messages(setter, this.name)
  }

  applied(): void {
    this.#known = true
    this.#owner._count(false)
  }

  failed(error: unknown): boolean {
    const code = (error as { code?: unknown } | null)?.code
    if (typeof code !== 'string' || !RETRYABLE.has(code)) {
      // Unknown whether the Parse went through: parse next time; a
      // duplicate then costs one absorbed 42P05.
      this.#known = false
      return false
    }
    this.#known = code === '42P05'
    this.#owner._count(code === '26000')
    return true
  }
}

function sameValues(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
