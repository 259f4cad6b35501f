import type { ExampleTenant } from './setup.js'

/** The setup script's tenants, one of each kind, with fixed ids (so a rerun finds them). */
export const EXAMPLE_TENANTS: readonly ExampleTenant[] = [
  { id: '00000000-0000-4000-8000-00000000acce', name: 'Acme', kind: 'pool', key: 'acme' },
  { id: '00000000-0000-4000-8000-0000000091be', name: 'Globex', kind: 'schema', key: 'globex' },
  { id: '00000000-0000-4000-8000-000000001e7c', name: 'Initech', kind: 'database', key: 'initech' },
]
