import type { TenantSetter } from './setter.js'

const cache = new Map<number, string>()

/**
 * The Citus mode's setter (createTenantPool(pool, { citus: true })):
 *
 *   SELECT set_config('citus.propagate_set_commands', 'local', true), tenantscope.set_local($1, $2)
 *
 * `tenantscope.set_local` is a `SET LOCAL`, which Citus forwards to the
 * workers (set_config is never forwarded), but only when
 * `citus.propagate_set_commands = 'local'`. Without that setting the workers
 * never see the tenant and every query silently returns 0 rows; setting it
 * here, transaction-locally and before the tenant, means no role, pooler or
 * connection string can be missing it. It runs on the coordinator only (a
 * function call, not a SET statement, so it is not itself forwarded).
 */
export const citusSetter: TenantSetter = (settings) => {
  let text = cache.get(settings.length)
  if (text === undefined) {
    const calls = [`set_config('citus.propagate_set_commands', 'local', true)`]
    for (let i = 0; i < settings.length; i++) calls.push(`tenantscope.set_local($${2 * i + 1}, $${2 * i + 2})`)
    cache.set(settings.length, (text = `SELECT ${calls.join(', ')}`))
  }
  const values: string[] = []
  for (const [name, value] of settings) values.push(name, value)
  return { text, values }
}
