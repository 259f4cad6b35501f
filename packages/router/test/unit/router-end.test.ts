import { randomUUID } from 'node:crypto'
import { createTenantDirectory, createTenantRouter } from '@tenantscope/router'
import { expect, test } from 'vitest'

test('an ended router no longer waits on its directory: its drain callback is removed', async () => {
  const id = randomUUID()
  const directory = createTenantDirectory(() => ({ tenantId: id, strategy: 'pool', state: 'active' }))
  // Counts the calls of every drain callback a router registers.
  let drains = 0
  const onDrain = directory.onDrain.bind(directory)
  directory.onDrain = (drain) => onDrain((tenantId) => (drains++, drain(tenantId)))
  const router = createTenantRouter({ directory, pool: { connectionString: 'postgres://nobody@127.0.0.1:1/none' } })
  await directory.settle(id)
  expect(drains).toBe(1)
  await router.end()
  await directory.settle(id)
  expect(drains).toBe(1)
})
