import type { Catalog } from './catalog/index.js'
import { checkCitus } from './check-citus.js'
import { checkDatabases } from './check-databases.js'
import { checkKeys } from './check-keys.js'
import { checkPolicies } from './check-policies.js'
import { checkPrivileges } from './check-privileges.js'
import { checkRole } from './check-role.js'
import { checkTables } from './check-tables.js'
import { checkViews } from './check-views.js'
import type { Finding } from './finding.js'

/** @internal A check reads the loaded catalog and returns its findings; it never queries. */
export type Check = (catalog: Catalog) => Finding[]

/** @internal Every check the doctor runs, in this order. A new check is a file and one line here. */
export const CHECKS: readonly Check[] = [
  checkTables,
  checkPolicies,
  checkKeys,
  checkViews,
  checkPrivileges,
  checkRole,
  checkDatabases,
  checkCitus,
]
