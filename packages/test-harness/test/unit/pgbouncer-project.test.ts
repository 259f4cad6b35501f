import { afterEach, describe, expect, test, vi } from 'vitest'
import { pgbouncerProjectInclude } from '../../src/pgbouncer-project.js'

// Whether a PgBouncer project's tests are in the run: a skipped suite proves
// nothing, so CI keeps them in (and they fail without pgbouncer); a user's
// machine without pgbouncer leaves them out and says why.
describe('pgbouncerProjectInclude', () => {
  const include = ['test/pgbouncer/**/*.test.ts']
  const missing = () => undefined
  afterEach(() => {
    vi.unstubAllEnvs()
    vi.restoreAllMocks()
  })

  test('in CI, a missing pgbouncer keeps the tests in, so the run fails instead of skipping', () => {
    vi.stubEnv('CI', 'true')
    expect(pgbouncerProjectInclude(include, missing)).toEqual(include)
  })

  test('on a user machine without pgbouncer: left out, with the reason printed', () => {
    vi.stubEnv('CI', '')
    const written = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    expect(pgbouncerProjectInclude(include, missing)).toEqual([])
    expect(String(written.mock.calls[0]?.[0])).toMatch(/PgBouncer tests do not run on this machine: pgbouncer is not on PATH/)
  })

  test('with pgbouncer installed: in', () => {
    vi.stubEnv('CI', '')
    expect(pgbouncerProjectInclude(include, () => '/usr/sbin/pgbouncer')).toEqual(include)
  })
})
