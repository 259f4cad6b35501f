// Provisions the example's database and one tenant of each kind; safe to rerun.
//   ADMIN_URL  the primary database as its owner (superuser, or CREATEDB + CREATEROLE)
//   APP_ROLE   the application's LOGIN role (member of tenantscope_app; not superuser, not BYPASSRLS)

import { EXAMPLE_TENANTS } from './example-tenants.js'
import { setupExample } from './setup.js'

const { ADMIN_URL, APP_ROLE } = process.env
if (!ADMIN_URL || !APP_ROLE) {
  console.error('Set ADMIN_URL (the database owner) and APP_ROLE (the application login role).')
  process.exit(2)
}
try {
  const { tenants, migrations } = await setupExample({ adminUrl: ADMIN_URL, appRole: APP_ROLE, tenants: EXAMPLE_TENANTS })
  for (const t of tenants) {
    const where =
      t.strategy === 'schema' ? `schema ${t.schema}` : t.strategy === 'database' ? `database ${t.database}` : 'shared tables (RLS)'
    console.log(`${t.created ? 'created' : 'exists '}  ${t.name.padEnd(8)} ${t.tenantId}  ${t.strategy.padEnd(8)} ${where}`)
  }
  console.log(`migrations: ${migrations.migrated.length} targets migrated, ${migrations.upToDate} up to date`)
} catch (error) {
  console.error(`setup failed: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}
