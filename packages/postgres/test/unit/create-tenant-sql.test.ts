import { TenantScopeError } from '@tenantscope/core'
import { createTenantSql, isTenantSql } from '@tenantscope/postgres'
import postgres from 'postgres'
import { afterAll, describe, expect, test } from 'vitest'

// postgres.js connects on the first query only: nothing here reaches a server.
const raw = postgres('postgres://nobody@127.0.0.1:1/none', { max: 1 })
afterAll(() => raw.end({ timeout: 0 }))

const isConfigError = (error: unknown) => TenantScopeError.is(error, 'INVALID_CONFIG')

describe('createTenantSql', () => {
  test('takes only the sql function postgres() returns, once', () => {
    for (const notSql of [undefined, null, {}, () => undefined, { unsafe() {}, begin() {}, end() {} }]) {
      expect(() => createTenantSql(notSql as never)).toThrow(expect.toSatisfy(isConfigError))
    }
    const sql = createTenantSql(raw)
    expect(isTenantSql(sql)).toBe(true)
    expect(isTenantSql(raw)).toBe(false)
    expect(() => createTenantSql(sql)).toThrow(expect.toSatisfy(isConfigError))
  })

  test('refuses a setting name that is not a dotted identifier', () => {
    for (const setting of ['current_tenant', "app.x'; --", 'app.', '']) {
      expect(() => createTenantSql(raw, { setting })).toThrow(expect.toSatisfy(isConfigError))
    }
  })

  test('what cannot be scoped throws INVALID_CONFIG instead of running unscoped', () => {
    const sql = createTenantSql(raw)
    expect(() => sql.reserve()).toThrow(expect.toSatisfy(isConfigError))
    expect(() => sql.listen('channel', () => undefined)).toThrow(expect.toSatisfy(isConfigError))
    expect(() => sql.notify('channel', 'payload')).toThrow(expect.toSatisfy(isConfigError))
    expect(() => sql.subscribe('*', () => undefined)).toThrow(expect.toSatisfy(isConfigError))
    expect(() => sql.largeObject()).toThrow(expect.toSatisfy(isConfigError))
  })

  test('keeps the wrapped sql’s options and helpers (Drizzle’s postgres-js driver edits options.parsers)', () => {
    const sql = createTenantSql(raw)
    expect(sql.options).toBe(raw.options)
    expect(sql.json).toBe(raw.json)
    expect(sql.PostgresError).toBe(raw.PostgresError)
    // A fragment is not a query: no tenant needed to build one.
    expect(() => sql({ name: 'x' }, 'name')).not.toThrow()
  })
})
