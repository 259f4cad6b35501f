import { createTenantPool, type TenantPool, type TenantPoolOptions, withTenant } from '@tenantscope/core'
import pg from 'pg'

// The opt-in option of issue 12, typed here so that this file compiles with
// and without it in core; whether core honours it is checked at run time.
type PrepareStatementsOptions = TenantPoolOptions & { prepareStatements?: boolean | { max?: number } }

const PROBE = 'SELECT id FROM projects WHERE id = $1'
const PROBE_TENANT = '00000000-0000-4000-8000-000000000000'

/**
 * `createTenantPool(pool, { prepareStatements: true })`, or a note saying why
 * the mode is not run: core without the option (it throws on the option, or
 * ignores it and leaves no statement of the user's prepared on the
 * connection, which is what this checks, on a one-connection probe pool).
 */
export async function createPreparedStatementsPool(
  appUrl: string,
  size: number,
  opened: (pool: pg.Pool) => void,
): Promise<TenantPool | string> {
  const options: PrepareStatementsOptions = { prepareStatements: true }
  const probe = new pg.Pool({ connectionString: appUrl, max: 1 })
  try {
    const scoped = createTenantPool(probe, options)
    const prepared = await withTenant(PROBE_TENANT, async () => {
      await scoped.query(PROBE, [PROBE_TENANT])
      await scoped.query(PROBE, [PROBE_TENANT])
      const { rows } = await scoped.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = $1', [
        PROBE,
      ])
      return rows[0]!.n > 0
    })
    if (!prepared)
      return "prepareStatements mode not run: this build of @tenantscope/core does not prepare users' statements (the option is ignored)."
    // Its own pool: the statements it prepares stay on its connections.
    const pool = new pg.Pool({ connectionString: appUrl, max: size, idleTimeoutMillis: 0 })
    opened(pool)
    return createTenantPool(pool, options)
  } catch (error) {
    return `prepareStatements mode not run: createTenantPool refused the option (${String((error as Error).message ?? error).split('\n')[0]}).`
  } finally {
    await probe.end()
  }
}
