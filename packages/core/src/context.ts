import { AsyncLocalStorage } from 'node:async_hooks'
import { TenantScopeError } from './errors.js'
import { readWithTenantSettings, type TenantSettings } from './settings.js'

/** @internal What `withTenant` binds for the duration of its callback. */
export interface TenantContext {
  readonly tenantId: string
  readonly settings: TenantSettings
  /**
   * What the last pool that read this context made of it (see
   * TenantScope.resolve): a context never changes, so it is parsed once.
   * Kept on the context, not in a WeakMap: a WeakMap entry per request costs
   * the garbage collector more than the parse it saves.
   */
  resolved: { readonly by: object; readonly value: unknown } | undefined
}

export interface WithTenantOptions {
  /**
   * More transaction-local settings sent in the same round trip as the tenant,
   * for policies that also look at the user or a role.
   * @example withTenant(tenantId, fn, { settings: { 'app.user_id': userId } })
   */
  settings?: TenantSettings
}

// One storage per process, shared by every copy of this module so that two
// installed versions of tenantscope still see the same tenant.
const storageKey = Symbol.for('tenantscope:context')
const globalSlot = globalThis as { [storageKey]?: AsyncLocalStorage<TenantContext> }
const storage: AsyncLocalStorage<TenantContext> = (globalSlot[storageKey] ??= new AsyncLocalStorage())

// Loose bounds only: the pool's parseTenantId decides what a valid id is.
const MAX_TENANT_ID_LENGTH = 256

/**
 * Runs `fn` with `tenantId` as the current tenant and returns its result.
 * Every query made through a TenantPool inside `fn` (and anything it awaits)
 * runs for this tenant. Nesting with another tenant is allowed; a connection
 * or transaction already bound to a tenant refuses use from another one.
 * @example await withTenant(session.tenantId, () => pool.query('SELECT * FROM projects'))
 */
export function withTenant<T>(tenantId: string, fn: () => T | Promise<T>, options?: WithTenantOptions): Promise<T> {
  if (typeof tenantId !== 'string' || tenantId.length === 0 || tenantId.length > MAX_TENANT_ID_LENGTH) {
    return Promise.reject(new TenantScopeError('INVALID_TENANT_ID', 'Tenant id must be a non-empty string of at most 256 characters'))
  }
  if (typeof fn !== 'function') {
    return Promise.reject(new TypeError('withTenant(tenantId, fn): fn must be a function'))
  }
  let settings: TenantSettings
  try {
    settings = readWithTenantSettings(options)
  } catch (error) {
    return Promise.reject(error)
  }
  return storage.run({ tenantId, settings, resolved: undefined }, callAsPromise, fn)
}

// fn's own promise when it returns one (no wrapper promise, no extra ticks
// per withTenant); a thrown error or a plain value becomes one.
function callAsPromise<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    const result = fn()
    return result instanceof Promise ? result : Promise.resolve(result)
  } catch (error) {
    return Promise.reject(error)
  }
}

/** The current tenant id; throws `TENANT_CONTEXT_MISSING` outside `withTenant`. */
export function getTenantId(): string {
  return getTenantContext().tenantId
}

/**
 * The current `withTenant`'s extra settings (checked and frozen; an empty
 * object when none were given), for adapters that send them with the tenant.
 * Throws `TENANT_CONTEXT_MISSING` outside `withTenant`.
 */
export function getTenantSettings(): TenantSettings {
  return getTenantContext().settings
}

/** The current tenant id, or `undefined` outside `withTenant`. */
export function tryGetTenantId(): string | undefined {
  return storage.getStore()?.tenantId
}

/** @internal */
export function getTenantContext(): TenantContext {
  const context = storage.getStore()
  if (!context) {
    throw new TenantScopeError(
      'TENANT_CONTEXT_MISSING',
      'No tenant context: run this inside withTenant(tenantId, fn), or use a separate system pool for cross-tenant work',
    )
  }
  return context
}

/**
 * @internal Runs `fn` with no tenant. Connections are opened and handed back
 * to the wrapped pool this way: a socket and a pool timer keep the context
 * they were created in, and must never keep a tenant's.
 */
export function runOutsideTenant<T, A extends unknown[]>(fn: (...args: A) => T, ...args: A): T {
  // run(undefined) swaps the store; exit() disables and re-enables the
  // storage, which costs about a hundred times more on Node 20. Arguments
  // are passed through, so a hot path needs no closure per call.
  return storage.run(undefined as unknown as TenantContext, fn, ...args)
}
