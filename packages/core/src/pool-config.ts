import pg from 'pg'
import { usesPipelineMode } from './_pg-internals.js'
import { TenantScopeError } from './errors.js'

/** @internal A pg.Pool, an object that quacks like one, or a config to build one from. */
export function toPgPool(poolOrConfig: pg.Pool | pg.PoolConfig | undefined): pg.Pool {
  if (isTenantPool(poolOrConfig)) {
    throw new TenantScopeError('INVALID_CONFIG', 'This pool is already a TenantPool: use it as it is')
  }
  if (poolOrConfig instanceof pg.Pool || isPoolLike(poolOrConfig)) {
    refusePipelineMode((poolOrConfig as pg.Pool).options)
    return poolOrConfig as pg.Pool
  }
  if (poolOrConfig !== undefined && (typeof poolOrConfig !== 'object' || poolOrConfig === null)) {
    throw new TenantScopeError('INVALID_CONFIG', 'createTenantPool takes a pg.Pool or a pg.PoolConfig object')
  }
  const config = poolOrConfig ?? {}
  refusePipelineMode(config)
  checkConnectionString(config.connectionString)
  return new pg.Pool(config)
}

// By shape, not by class: pool-config must not import tenant-pool (a cycle).
function isTenantPool(value: unknown): boolean {
  return definesMember(value, 'unscopedPool') && definesMember(value, 'transaction')
}

function isPoolLike(value: unknown): boolean {
  return (['connect', 'query', 'end'] as const).every(
    (name) => definesMember(value, name) && typeof (value as Record<string, unknown>)[name] === 'function',
  )
}

// The object itself or its class defines `name`; a member that only
// Object.prototype has (a polluted one) does not make a config a pool.
function definesMember(value: unknown, name: string): boolean {
  if (typeof value !== 'object' || value === null) return false
  for (let owner: object | null = value; owner !== null && owner !== Object.prototype; owner = Object.getPrototypeOf(owner)) {
    if (Object.hasOwn(owner, name)) return true
  }
  return false
}

// pg's `pipeline: true` client mode refuses custom query objects, and the
// setter travels in one: every query would fail with pg's own error.
function refusePipelineMode(options: unknown): void {
  if (usesPipelineMode(options)) {
    throw new TenantScopeError(
      'INVALID_CONFIG',
      "pg's pipeline mode (`pipeline: true`) is not supported: tenantscope pipelines each statement with its setter itself",
    )
  }
}

// pg only notices a malformed URL on the first connect, far from the mistake.
// The message never repeats the string: it may hold a password.
function checkConnectionString(connectionString: unknown): void {
  if (connectionString === undefined) return
  if (typeof connectionString !== 'string' || connectionString.trim() === '') {
    throw new TenantScopeError('INVALID_CONFIG', 'connectionString must be a non-empty string')
  }
  if (!/^postgres(ql)?:\/\//i.test(connectionString)) {
    throw new TenantScopeError('INVALID_CONFIG', 'connectionString must start with postgres:// or postgresql://')
  }
  try {
    new URL(connectionString)
  } catch {
    throw new TenantScopeError('INVALID_CONFIG', 'connectionString is not a valid URL')
  }
}
